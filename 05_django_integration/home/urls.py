from django.urls import path

from . import progress_views, views

urlpatterns = [
    path("", views.index, name="index"),
    path("api/banners/", views.BannerView.as_view(), name="banners"),
    path("api/sms/", views.SmsView.as_view(), name="sms"),
    path("api/tasks/<str:task_id>/", views.TaskStatusView.as_view(), name="task-status"),
    path("thumbnails/", progress_views.thumbnails_page, name="thumbnails"),
    path("api/thumbnails/", progress_views.ThumbnailsView.as_view(), name="rebuild-thumbnails"),
]
