FROM python:3.12.8-slim-bookworm@sha256:11a4a60b518bf24989d481468076e5d5982884626aed9faeb35b8576fcd223e1
WORKDIR /app
COPY . .
RUN useradd --system --uid 10001 app
USER 10001
HEALTHCHECK CMD ["python", "healthcheck.py"]
CMD ["python", "manage.py", "migrate"]
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "project.wsgi"]
