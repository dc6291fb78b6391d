"""EMAIL_URL: what the production mail server is, read into Django's settings."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings import email_settings


def test_smtp_with_starttls_a_login_and_a_timeout():
    found = email_settings("smtp://mailer:p%40ss@smtp.example:587?tls=1&timeout=10")
    assert found == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "mailer",
        "EMAIL_HOST_PASSWORD": "p@ss",
        "EMAIL_USE_SSL": False,
        "EMAIL_USE_TLS": True,
        "EMAIL_TIMEOUT": 10.0,
    }


def test_smtps_defaults_to_its_port_and_a_timeout():
    found = email_settings("smtps://smtp.example")
    assert found["EMAIL_PORT"] == 465 and found["EMAIL_USE_SSL"] and not found["EMAIL_USE_TLS"]
    assert found["EMAIL_TIMEOUT"] == 30.0


def test_nothing_set_prints_mail_in_the_terminal():
    assert email_settings("") == {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}


def test_another_scheme_is_refused():
    with pytest.raises(ImproperlyConfigured):
        email_settings("sendgrid://key@api")
