FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=shop.settings.production \
    DJANGO_SECRET_KEY=django-insecure-7c#kq%v2m9x!p0r8w@l3z

RUN apt-get update \
    && apt-get install -y build-essential libpq-dev gettext curl

WORKDIR /code
COPY requirements/ requirements/
RUN pip install -r requirements/production.txt

COPY . .
RUN python manage.py collectstatic --noinput && chmod -R 777 /code/media

EXPOSE 8000
CMD gunicorn shop.wsgi:application --bind 0.0.0.0:8000 --workers 3
