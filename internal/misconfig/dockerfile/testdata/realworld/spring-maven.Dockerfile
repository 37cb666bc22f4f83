FROM maven:3.9.9-eclipse-temurin-21 AS build
WORKDIR /workspace
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src ./src
RUN mvn -B -q package -DskipTests

FROM eclipse-temurin:21-jre-jammy
RUN groupadd --system spring && useradd --system --gid spring spring
WORKDIR /opt/app
ADD target/*.jar app.jar
COPY --from=build /workspace/target/*.jar /opt/app/app.jar
USER spring:spring
EXPOSE 8080
HEALTHCHECK --interval=30s CMD curl -fs http://localhost:8080/actuator/health || exit 1
ENTRYPOINT java $JAVA_OPTS -jar /opt/app/app.jar
