"""Duplicate groups found by matching, and the review decisions of sales ops."""
from django.conf import settings
from django.db import models


class DuplicateGroup(models.Model):
    """Records believed to be one person or company, waiting for (or past) review."""

    class Status(models.TextChoices):
        OPEN = "open", "To review"
        MERGED = "merged", "Merged"
        NOT_DUPLICATE = "not_duplicate", "Not a duplicate"

    object_name = models.CharField("object", max_length=100)
    size = models.PositiveIntegerField("records", default=0)
    confidence = models.FloatField("confidence", default=0.0, help_text="0–1: how sure the matcher is that these are one.")
    status = models.CharField("status", max_length=20, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField("decided at", null=True, blank=True)
    created_at = models.DateTimeField("found at", auto_now_add=True)

    class Meta:
        ordering = ["-confidence", "-created_at"]
        indexes = [
            # The review queue: open groups, most certain first.
            models.Index(fields=["status", "-confidence"], name="dupgroup_queue"),
        ]
        permissions = [("merge_duplicategroup", "Can merge duplicates in the connected systems")]
        verbose_name = "duplicate group"

    def __str__(self):
        return f"{self.object_name} group of {self.size}"
