from django.urls import path

from . import views

app_name = "integrations"
urlpatterns = [
    path("admin/tokens/", views.tokens_page, name="tokens"),
    path("admin/tokens/<int:pk>/revoke/", views.token_revoke_view, name="token_revoke"),
    path("account/tokens/", views.my_tokens, name="mine"),
    path("account/tokens/<int:pk>/collect/", views.token_collect_view, name="collect"),
]
