# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022

SHELL ["powershell", "-Command", "$ErrorActionPreference = 'Stop'; $ProgressPreference = 'SilentlyContinue';"]

RUN Invoke-WebRequest -Uri https://dl.example.com/app.zip -OutFile app.zip; `
    Expand-Archive app.zip -DestinationPath C:\app; `
    Remove-Item app.zip -Force

WORKDIR C:\app
EXPOSE 8080
HEALTHCHECK CMD powershell -Command "try { Invoke-WebRequest http://localhost:8080/health -UseBasicParsing } catch { exit 1 }"
CMD C:\app\app.exe
