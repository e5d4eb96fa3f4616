"""The sign-in backend: Django's ``ModelBackend``, reading a signed-in user on each request
together with their active memberships.

Every page and API call of a signed-in user reads the user (``django.contrib.auth.get_user``)
and then the membership it acts as (``User.memberships_active``): two statements where one does,
the memberships with their user joined in. A user without an active membership is read alone,
as before."""

from __future__ import annotations

from operator import attrgetter

from django.contrib.auth.backends import ModelBackend

from .models import ACTIVE_MEMBERSHIPS, Membership


class MembershipBackend(ModelBackend):
    def get_user(self, user_id):
        members = sorted(
            Membership.objects.filter(user_id=user_id, is_active=True)
            .select_related("user", "unit", "unit__parent"),
            key=attrgetter("pk"))
        if not members:
            return super().get_user(user_id)
        user = members[0].user
        for m in members:
            m.user = user
        setattr(user, ACTIVE_MEMBERSHIPS, members)
        return user if self.user_can_authenticate(user) else None
