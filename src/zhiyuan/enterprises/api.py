"""Registry API: /api/enterprises/ — same scoping, filters and services as the pages."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied

from zhiyuan.accounts.models import Role
from zhiyuan.accounts.permissions import can_edit_registry
from zhiyuan.enterprises import services
from zhiyuan.enterprises.filters import EnterpriseFilter
from zhiyuan.enterprises.models import Enterprise, ParkZone, Tag
from zhiyuan.enterprises.selectors import enterprise_get_for, enterprises_visible_to, personal_data_for


class EnterpriseSerializer(serializers.ModelSerializer):
    """Read and write shape of a firm. The industry is its GB/T 4754-2017 code."""

    industry = serializers.CharField(source="industry_id", max_length=5, label=_("Industry code"))
    industry_name = serializers.CharField(source="industry.name", read_only=True)
    zone = serializers.SlugRelatedField(
        slug_field="name", queryset=ParkZone.objects.all(), required=False, allow_null=True, label=_("Park zone")
    )
    tags = serializers.SlugRelatedField(
        slug_field="name", queryset=Tag.objects.all(), many=True, required=False, label=_("Tags")
    )
    size_class_display = serializers.CharField(source="get_size_class_display", read_only=True)

    class Meta:
        model = Enterprise
        fields = [
            "id", *services.EDITABLE_FIELDS, "industry_name", "size_class", "size_class_display",
            "is_demo", "created_at", "updated_at",
        ]
        read_only_fields = ["size_class", "is_demo", "created_at", "updated_at"]
        extra_kwargs = {"uscc": {"validators": []}}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data.update(personal_data_for(self.context["request"].user, instance))
        return data

    def service_data(self) -> dict:
        """The validated fields in the shape the services take (industry as a code)."""
        data = dict(self.validated_data)
        if "industry_id" in data:
            data["industry"] = data.pop("industry_id")
        return data


@extend_schema(tags=["enterprises"])
class EnterpriseViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The enterprise registry. A firm user sees and edits only its own firm; banks and the city see none."""

    serializer_class = EnterpriseSerializer
    filterset_class = EnterpriseFilter

    def get_queryset(self):
        return enterprises_visible_to(self.request.user).prefetch_related("tags")

    def get_object(self):
        return enterprise_get_for(self.request.user, self.kwargs["pk"])

    def perform_create(self, serializer):
        if not can_edit_registry(self.request.user):
            raise PermissionDenied()
        serializer.instance = services.enterprise_create(actor=self.request.user, data=serializer.service_data())

    def perform_update(self, serializer):
        if self.request.user.role == Role.CITY:
            raise PermissionDenied()
        serializer.instance = services.enterprise_update(
            actor=self.request.user, enterprise=serializer.instance, data=serializer.service_data()
        )
