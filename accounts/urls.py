from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .forms import PasswordResetForm

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"
    ),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(form_class=PasswordResetForm),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("preferences/", views.preferences, name="preferences"),
    path("email/", views.change_email, name="change-email"),
    path("email/resend/", views.resend_confirmation, name="resend-confirmation"),
    path("email/confirm/<str:token>/", views.confirm_email, name="confirm-email"),
    path("export/", views.export_data, name="export-data"),
    path("delete/", views.delete_account, name="delete-account"),
]
