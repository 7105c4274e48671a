from django.db import models


class Banner(models.Model):
    """One slide of the home-page carousel (the lesson's model)."""

    title = models.CharField(max_length=64)
    image = models.ImageField(upload_to="banner")  # a file under MEDIA_ROOT/banner/
    link = models.CharField(max_length=255, help_text="where a click on the slide leads")
    orders = models.PositiveIntegerField(default=0, help_text="smaller comes first")
    is_show = models.BooleanField(default=True, help_text="shown on the home page")
    is_delete = models.BooleanField(default=False, help_text="soft-deleted: never shown")
    created_time = models.DateTimeField(auto_now_add=True)
    updated_time = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["orders", "id"]

    def __str__(self):
        return self.title


class Order(models.Model):
    """A course order: the transaction demo texts the buyer once the order is saved."""

    mobile = models.CharField(max_length=20)
    course = models.CharField(max_length=64)
    notified = models.BooleanField(default=False, help_text="the confirmation SMS went out")
    created_time = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"order {self.pk}: {self.course} for {self.mobile}"
