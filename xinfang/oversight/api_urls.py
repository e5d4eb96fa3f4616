from django.urls import path

from . import api

urlpatterns = [
    path("orders/", api.OrderList.as_view(), name="oversight-orders"),
    path("orders/<int:pk>/answer/", api.OrderAnswer.as_view(), name="oversight-order-answer"),
    path("cases/<int:pk>/reviews/", api.CaseReviews.as_view(), name="oversight-reviews"),
    path("rectifications/<int:pk>/answer/", api.RectificationAnswer.as_view(),
         name="oversight-rectification-answer"),
    path("cases/<int:pk>/verifications/", api.CaseVerify.as_view(),
         name="oversight-verifications"),
    path("cases/<int:pk>/proxy/", api.CaseProxy.as_view(), name="oversight-proxy"),
    path("proxy/work/", api.ProxyWorkList.as_view(), name="oversight-proxy-work"),
]
