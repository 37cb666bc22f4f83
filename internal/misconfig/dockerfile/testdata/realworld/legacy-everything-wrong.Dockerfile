FROM ubuntu:latest
MAINTAINER ops@example.com

ENV AWS_SECRET_ACCESS_KEY wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
ENV API_TOKEN=${API_TOKEN}
ARG GITHUB_TOKEN=ghp_16C7e42F292c6912E7710c838347Ae178B4a

RUN apt-get update
RUN apt-get install -y curl sudo openssh-server python3 python3-pip
RUN curl -sSL https://install.python-poetry.org | python3 -
RUN wget -qO- https://get.docker.com | sudo sh
RUN cd /opt && git clone https://github.com/example/app.git
ADD https://example.com/config.tar.gz /etc/app/
ADD . /opt/app
RUN chmod -R 777 /opt/app && chmod 4755 /opt/app/bin/helper
RUN yum install -y epel-release || true

EXPOSE 22 80 2375
VOLUME /var/lib/docker
CMD service ssh start && python3 /opt/app/main.py
CMD ["python3", "/opt/app/main.py"]
ENTRYPOINT /opt/app/entrypoint.sh
