import json
from datetime import datetime

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from companion.http import AuthenticatedHttpRequest, local_path, redirect_to_next
from companion.models import Party
from upcoming.models import CalendarFeed

from .forms import DeleteAccountForm, EmailForm, PreferencesForm, SignupForm
from .mail import send_confirmation
from .models import User


class LocalNextMixin(auth_views.RedirectURLMixin):
    """Django's login and logout take a `next` too: the same rule, a path on this site or nothing."""

    def get_redirect_url(self, *args, **kwargs) -> str:
        return local_path(super().get_redirect_url(*args, **kwargs)) or ""


class LoginView(LocalNextMixin, auth_views.LoginView):
    pass


class LogoutView(LocalNextMixin, auth_views.LogoutView):
    pass


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("show-list")
    form = SignupForm(request.POST or None)
    if form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request, "Welcome! Mark the episodes you have seen and the companion opens up."
        )
        if user.email:
            confirmation_sent(request, user)
        # A new account follows nothing yet: the catalogue is where they start.
        return redirect_to_next(request.POST.get("next"), reverse("browse"))
    back = local_path(request.POST.get("next") or request.GET.get("next")) or ""
    return render(request, "registration/signup.html", {"form": form, "next": back})


@require_http_methods(["GET", "POST"])
@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    form = PreferencesForm(request.POST or None, instance=request.user)
    if form.is_valid():
        form.save()
        messages.success(request, "Preferences saved.")
        return redirect("preferences")
    return render(request, "accounts/preferences.html", {"form": form})


def confirmation_sent(request: HttpRequest, user: User) -> None:
    """Send the confirmation link and say so, or say why not."""
    if send_confirmation(request, user):
        messages.info(request, f"We have sent a link to {user.email}: open it to confirm it.")
    else:
        messages.warning(
            request,
            f"We have sent several links to {user.email} in the last hour; "
            "ask for another one later.",
        )


@require_http_methods(["GET", "POST"])
@login_required
def change_email(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    form = EmailForm(request.POST or None, user=user, initial={"email": user.email})
    if form.is_valid():
        address = form.cleaned_data["email"]
        if address == user.email:
            messages.info(request, "That is already your address.")
        else:
            user.change_email(address)
            if address:
                confirmation_sent(request, user)
            else:
                messages.success(request, "Your account has no email address now.")
        return redirect("preferences")
    return render(request, "accounts/email.html", {"form": form})


@require_POST
@login_required
def resend_confirmation(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    if user.email and not user.email_confirmed:
        confirmation_sent(request, user)
    return redirect("preferences")


@require_http_methods(["GET", "POST"])
def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    """A GET asks, a POST confirms: a mail scanner opening the link confirms nothing."""
    user = User.objects.confirming(token)
    if user is None:
        return render(request, "accounts/confirm_email.html", {"address": None}, status=400)
    if request.method == "POST":
        user.confirm_email()
        messages.success(request, f"{user.email} is confirmed. Thank you!")
        return redirect("preferences" if request.user == user else "show-list")
    return render(request, "accounts/confirm_email.html", {"address": user.email})


def isoformat(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def login_record(record) -> dict:
    """What django-axes noted of a login, as typed and seen; axes keeps no password."""
    return {
        "at": record.attempt_time.isoformat(),
        "username": record.username,
        "ip_address": record.ip_address,
        "user_agent": record.user_agent,
    }


@require_GET
@login_required
def export_data(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Everything we hold about the viewer; episodes by code only, so no unwatched title rides along."""
    user = request.user
    records = user.login_records()
    data = {
        "username": user.username,
        "email": user.email,
        "email_confirmed": user.email_confirmed,
        "date_joined": user.date_joined.isoformat(),
        "preferences": {
            "hide_unwatched_titles": user.hide_unwatched_titles,
            "show_upcoming_titles": user.show_upcoming_titles,
            "hide_unwatched_synopses": user.hide_unwatched_synopses,
            "hide_unwatched_images": user.hide_unwatched_images,
            "email_when_episode_airs": user.email_when_episode_airs,
            "email_weekly_digest": user.email_weekly_digest,
        },
        "watched": [
            {
                "show": show_slug,
                "episode": f"{season}x{number}",
                "watched_at": at.isoformat(),
            }
            for show_slug, season, number, at in user.watches.order_by(
                "episode__show__slug", "episode__sequence"
            ).values_list(
                "episode__show__slug", "episode__season_number", "episode__number", "watched_at"
            )
        ],
        "following": list(user.follows.order_by("show__slug").values_list("show__slug", flat=True)),
        # The webhook secrets themselves are not held; only that a URL exists and when it was used.
        "media_servers": [
            {
                "server": hook.server,
                "created_at": hook.created_at.isoformat(),
                "last_event_at": isoformat(hook.last_event_at),
            }
            for hook in user.media_server_hooks.all()
        ],
        # As with the webhooks: that a calendar feed URL exists and since when, never its secret.
        "calendar_feed": [
            {"created_at": feed.created_at.isoformat()}
            for feed in CalendarFeed.objects.filter(user=user)
        ],
        "media_server_events": [
            {
                "server": event.server,
                "received_at": event.received_at.isoformat(),
                "event": event.event,
                "result": event.summary,
            }
            for event in user.media_server_events.select_related("show")
        ],
        "watch_parties": [
            {
                "name": party.name,
                "show": party.show.slug,
                "created_at": party.created_at.isoformat(),
                "kept_by_you": party.created_by_id == user.pk,
                "members": party.member_count,
            }
            # Counted over the whole party: on user.parties the join would count the viewer only.
            for party in Party.objects.filter(pk__in=user.parties.values("pk"))
            .select_related("show")
            .annotate(member_count=Count("members"))
        ],
        # What a token is called and when it was used; never its value, nor the hash we keep of it.
        "api_tokens": [
            {
                "name": token.name,
                "created_at": token.created_at.isoformat(),
                "last_used_at": isoformat(token.last_used_at),
                "revoked": token.revoked,
            }
            for token in user.api_tokens.all()
        ],
        # The viewer's own words and point; not the content reported, which an editor may since
        # have moved past that point.
        "spoiler_reports": [
            {
                "show": report.reporter_safe_point.show.slug,
                "kind": report.kind,
                "at": report.reporter_safe_point.code,
                "message": report.message,
                "created_at": report.created_at.isoformat(),
                "resolved": report.resolved,
            }
            for report in user.spoiler_reports.select_related("reporter_safe_point__show")
        ],
        # The viewer's own words, whole, with the episode each is about and where it is revealed.
        "posts": [
            {
                "show": post.episode.show.slug,
                "episode": post.episode.code,
                "revealed_at": post.reveal_at.code,
                "watch_party": post.party.name if post.party else None,
                "reply": post.parent_id is not None,
                "text": post.text,
                "created_at": post.created_at.isoformat(),
                "edited_at": isoformat(post.edited_at),
                "hidden_by_editors": post.hidden,
            }
            for post in user.posts.select_related("episode__show", "reveal_at", "party").order_by(
                "created_at"
            )
        ],
        "ratings": [
            {
                "show": show_slug,
                "episode": f"{season}x{number}",
                "stars": stars,
                "rated_at": at.isoformat(),
            }
            for show_slug, season, number, stars, at in user.ratings.order_by(
                "episode__show__slug", "episode__sequence"
            ).values_list(
                "episode__show__slug",
                "episode__season_number",
                "episode__number",
                "stars",
                "rated_at",
            )
        ],
        "post_reports": [
            {
                "show": report.reporter_safe_point.show.slug,
                "at": report.reporter_safe_point.code,
                "message": report.message,
                "created_at": report.created_at.isoformat(),
            }
            for report in user.post_reports.select_related("reporter_safe_point__show")
        ],
        "display_name": user.display_name,
        # The mail we sent about their shows: which episode each told of, by code, and when.
        "episode_mails": [
            {"show": show_slug, "episode": f"{season}x{number}", "sent_at": at.isoformat()}
            for show_slug, season, number, at in user.episode_mails.order_by("sent_at").values_list(
                "episode__show__slug", "episode__season_number", "episode__number", "sent_at"
            )
        ],
        "weekly_digests": [
            {"week": week.isoformat(), "sent_at": at.isoformat()}
            for week, at in user.digest_mails.order_by("week").values_list("week", "sent_at")
        ],
        "login_records": {
            "logins": [
                {**login_record(log), "logged_out_at": isoformat(log.logout_time)}
                for log in records["logins"]
            ],
            "failed_logins": [
                {**login_record(attempt), "failures": attempt.failures_since_start}
                for attempt in records["failed_logins"]
            ],
            "failed_login_log": [
                {**login_record(failure), "locked_out": failure.locked_out}
                for failure in records["failed_login_log"]
            ],
        },
        "exported_at": timezone.now().isoformat(),
    }
    response = HttpResponse(json.dumps(data, indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="spoilerfree-{user.username}.json"'
    return response


@require_http_methods(["GET", "POST"])
@login_required
def delete_account(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if form.is_valid():
        user = request.user
        logout(request)
        user.delete_account()
        messages.success(request, "Your account and your watch history have been deleted.")
        return redirect("show-list")
    return render(request, "accounts/delete.html", {"form": form})
