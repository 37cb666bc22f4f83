# syntax=docker/dockerfile:1.7
FROM debian:12.8-slim@sha256:1537a6a1cbc4b4fd401da800ee9480207e7dc1f23560c21259f681db56768f63

RUN <<EOF
set -eux
apt-get update
apt-get install -y nginx
EOF

COPY <<EOF /etc/nginx/conf.d/default.conf
server {
    listen 8080;
    # chmod 777 and curl | sh in a config file are just text
    location / { root /usr/share/nginx/html; }
}
EOF

RUN python3 <<EOF
print("this heredoc is Python, not shell: apt-get install is a string here")
EOF

RUN <<'SCRIPT' bash
set -euo pipefail
useradd --system --uid 10001 web
chown -R web:web /var/lib/nginx /var/log/nginx
SCRIPT

USER 10001
EXPOSE 8080
HEALTHCHECK CMD ["curl", "-fsS", "http://127.0.0.1:8080/"]
CMD ["nginx", "-g", "daemon off;"]
