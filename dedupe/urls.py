from django.urls import path

from . import views

urlpatterns = [
    path("", views.queue, name="duplicate_queue"),
    path("merge-selected/", views.queue_merge_selected, name="duplicate_merge_selected"),
    path("match/", views.match_now, name="duplicate_match_now"),
    path("<int:pk>/", views.group_detail, name="duplicate_group"),
    path("merges/<int:pk>/", views.merge_job, name="merge_job"),
    path("batches/<slug:batch>/", views.merge_batch, name="merge_batch"),
]
