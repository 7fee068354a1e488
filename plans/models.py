from django.db import models


class Carrier(models.Model):
    """An insurance carrier, shared by individual policies and group plans."""

    name = models.CharField(max_length=200)
    code = models.SlugField(max_length=40, unique=True)
    naic = models.CharField("NAIC number", max_length=10, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["naic"], condition=~models.Q(naic=""), name="carrier_naic_unique")]

    def __str__(self):
        return self.name
