from django.urls import path

from . import views

app_name = "oversight"

urlpatterns = [
    path("oversight/", views.index, name="index"),
    path("oversight/orders/new/", views.order_new, name="order_new"),
    path("oversight/orders/<int:pk>/", views.order_page, name="order"),
    path("oversight/bulletins/new/", views.bulletin_new, name="bulletin_new"),
    path("oversight/bulletins/<int:pk>/", views.bulletin_page, name="bulletin"),
    path("oversight/cases/<int:pk>/review/", views.review_page, name="review"),
    path("oversight/rectifications/<int:pk>/", views.rectification_page, name="rectification"),
    path("oversight/cases/<int:pk>/verify/", views.verify_page, name="verify"),
    path("oversight/cases/<int:pk>/proxy/", views.proxy_page, name="proxy"),
]
