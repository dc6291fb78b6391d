from django.urls import path

from . import views

urlpatterns = [
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/revoke/", views.revoke, name="calendar-revoke"),
    path("calendar/feed/<str:feed_token>.ics", views.feed, name="calendar-feed"),
    path("mail/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
