"""Authentication and permissions from security groups (see ``accounts.rights``)."""

from django.contrib.auth.backends import ModelBackend

from .rights import MODEL_AREAS, permission_granted


class SecurityGroupBackend(ModelBackend):
    """Password login (django-axes, listed before it, refuses locked-out logins); permissions from the
    user's security group only."""

    def get_user(self, user_id):
        # The session's user with its security group: the permission checks that follow need no query.
        from django.contrib.auth import get_user_model

        model = get_user_model()
        try:
            user = model._default_manager.select_related("security_group").get(pk=user_id)
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def _grants(self, user_obj):
        if not hasattr(user_obj, "_security_group_grants"):
            group = user_obj.security_group if user_obj.security_group_id else None
            user_obj._security_group_grants = (group.levels, group.flags) if group else ({}, set())
        return user_obj._security_group_grants

    def has_perm(self, user_obj, perm, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous:
            return False
        if user_obj.is_superuser:
            return True
        levels, flags = self._grants(user_obj)
        return permission_granted(levels=levels, flags=flags, perm=perm)

    def has_module_perms(self, user_obj, app_label):
        if not user_obj.is_active or user_obj.is_anonymous:
            return False
        if user_obj.is_superuser:
            return True
        from django.apps import apps

        try:
            models = apps.get_app_config(app_label).get_models()
        except LookupError:
            return False
        return any(self.has_perm(user_obj, f"{app_label}.view_{m._meta.model_name}") for m in models)

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous:
            return set()
        from django.apps import apps

        perms = set()
        for model in apps.get_models():
            meta = model._meta
            if meta.app_label not in MODEL_AREAS and f"{meta.app_label}.{meta.model_name}" not in MODEL_AREAS:
                continue
            codenames = [f"{a}_{meta.model_name}" for a in meta.default_permissions]
            codenames += [codename for codename, _ in meta.permissions]
            perms.update(f"{meta.app_label}.{c}" for c in codenames if self.has_perm(user_obj, f"{meta.app_label}.{c}"))
        return perms

    def get_user_permissions(self, user_obj, obj=None):
        return set()

    def get_group_permissions(self, user_obj, obj=None):
        return self.get_all_permissions(user_obj, obj)
