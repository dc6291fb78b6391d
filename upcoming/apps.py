from django.apps import AppConfig


class UpcomingConfig(AppConfig):
    name = "upcoming"
    verbose_name = "Calendar and feed of upcoming episodes"
