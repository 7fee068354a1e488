from rest_framework import permissions

from ..rights import denial_message


class ModelPermissions(permissions.DjangoModelPermissions):
    """Authenticated users with the model's permission; reading needs ``view`` (DRF skips it).

    A refusal names the missing right (``{"detail": "You need Edit on Individuals to add individuals."}``).
    """

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view):
        allowed = super().has_permission(request, view)
        if not allowed and request.user and request.user.is_authenticated:
            queryset = self._queryset(view)
            perms = self.get_required_permissions(request.method, queryset.model)
            self.message = denial_message(request.user, perms) or None
        return allowed


class HasPerm(permissions.BasePermission):
    """For views without a model queryset: ``permission_classes = [HasPerm.of("app.codename", ...)]`` (all needed)."""

    perms: tuple[str, ...] = ()

    @classmethod
    def of(cls, *perms: str):
        return type(f"HasPerm_{'_'.join(perms)}", (cls,), {"perms": perms})

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        self.message = denial_message(request.user, self.perms) or None
        return not self.message
