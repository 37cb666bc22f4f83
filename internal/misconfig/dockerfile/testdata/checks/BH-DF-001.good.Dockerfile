# syntax=docker/dockerfile:1.7
FROM python:3.12.8-slim-bookworm@sha256:11a4a60b518bf24989d481468076e5d5982884626aed9faeb35b8576fcd223e1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt \
 && useradd --system --uid 10001 --no-create-home app
COPY --chown=10001:10001 . .
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"]
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
