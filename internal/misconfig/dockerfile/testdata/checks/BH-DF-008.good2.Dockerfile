FROM ubuntu:24.04@sha256:7804a56a5c7636cc05814736f44139e32920810d3bd51aa099a5df932e754ce9
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 app
USER 10001
HEALTHCHECK CMD ["python3", "/app/health.py"]
CMD ["python3", "/app/main.py"]
