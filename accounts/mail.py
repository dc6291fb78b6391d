"""The mail that confirms an address: a signed link, and only a few an hour to one address."""

from django.conf import settings
from django.core.mail import send_mail
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from config.middleware import client_ip

from .models import EMAIL_CONFIRMATION_MAX_AGE, PasswordResetRequest, User


def send_confirmation(request: HttpRequest, user: User) -> bool:
    """Mail the viewer a link that confirms their address; False when the hourly limit is reached."""
    # The reset mails' limit, shared: both go to an address someone typed, which may be a
    # stranger's, so together they send no more than a few an hour to one address or from one client.
    if not PasswordResetRequest.objects.admit(email=user.email, client=client_ip(request)):
        return False
    link = request.build_absolute_uri(
        reverse("confirm-email", args=[user.email_confirmation_token()])
    )
    body = render_to_string(
        "accounts/confirm_email.txt",
        {"user": user, "link": link, "days": EMAIL_CONFIRMATION_MAX_AGE.days},
    )
    send_mail(
        "Confirm your address for Spoilerfree", body, settings.DEFAULT_FROM_EMAIL, [user.email]
    )
    return True
