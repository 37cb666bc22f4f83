FROM registry.access.redhat.com/ubi9/ubi-minimal:9.5@sha256:b7b4fe78377ca0959f88a01e2d2cc73d9f9fa9e3cf37b419edafabcb65d7120f
RUN microdnf install -y java-21-openjdk-headless shadow-utils \
 && useradd --system --uid 10001 app
COPY target/app.jar /opt/app/app.jar
USER 10001
HEALTHCHECK CMD ["java", "-cp", "/opt/app/app.jar", "app.Health"]
CMD ["java", "-jar", "/opt/app/app.jar"]
