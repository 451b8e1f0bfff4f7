from django.contrib.auth import views as auth_views
from django.shortcuts import render

from chorus import access


class LoginView(auth_views.LoginView):
    template_name = "users/login.html"


@access.public
def signup(request):
    return render(request, "users/login.html", {})


@access.authenticated
def account(request):
    return render(request, "users/login.html", {})


def lockout(request, credentials, *args, **kwargs):
    return render(request, "users/login.html", {}, status=429)
