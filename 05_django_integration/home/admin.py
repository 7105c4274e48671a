from django.contrib import admin

from .models import Banner, Order


@admin.register(Banner)
class BannerAdmin(admin.ModelAdmin):
    list_display = ("title", "orders", "is_show", "is_delete", "link", "updated_time")
    list_editable = ("orders", "is_show")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("id", "course", "mobile", "notified", "created_time")
