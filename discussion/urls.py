from django.urls import path

from . import views

episode = "shows/<slug:slug>/s<int:season>/e<int:number>/"
show_post = "shows/<slug:slug>/posts/<str:public_id>/"
party_post = "parties/<int:pk>/posts/<str:public_id>/"

urlpatterns = [
    path(f"{episode}discussion/", views.episode_thread, name="episode-thread"),
    path(f"{episode}rating/", views.rate, name="episode-rate"),
    path("parties/<int:pk>/discussion/", views.party_thread, name="party-thread"),
    path(f"{show_post}edit/", views.edit_post, name="post-edit"),
    path(f"{show_post}delete/", views.delete_post, name="post-delete"),
    path(f"{show_post}report/", views.report_post, name="post-report"),
    path(f"{party_post}edit/", views.edit_post, name="party-post-edit"),
    path(f"{party_post}delete/", views.delete_post, name="party-post-delete"),
    path(f"{party_post}report/", views.report_post, name="party-post-report"),
]
