from rest_framework import permissions


class ModelPermissions(permissions.DjangoModelPermissions):
    """Authenticated users with the model's permission; reading needs ``view`` (DRF skips it)."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }


class HasPerm(permissions.BasePermission):
    """For views without a model queryset: ``permission_classes = [HasPerm.of("app.codename", ...)]`` (all needed)."""

    perms: tuple[str, ...] = ()

    @classmethod
    def of(cls, *perms: str):
        return type(f"HasPerm_{'_'.join(perms)}", (cls,), {"perms": perms})

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.has_perms(self.perms))
