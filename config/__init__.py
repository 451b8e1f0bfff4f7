"""Portail Organisation. Loading the Celery application here registers the tasks
before any code dispatches one (web process and worker alike)."""

from config.celery import app as celery_app

__all__ = ("celery_app",)
