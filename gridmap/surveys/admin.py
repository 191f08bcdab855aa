from django.contrib import admin

from gridmap.core.admin import Admin, Inline
from gridmap.surveys.models import Question, Response, Survey


class QuestionInline(Inline, admin.TabularInline):
    model = Question
    extra = 0


@admin.register(Survey)
class SurveyAdmin(Admin):
    list_display = ["title", "open", "created_at"]
    inlines = [QuestionInline]


@admin.register(Response)
class ResponseAdmin(Admin):
    list_display = ["survey", "community", "source", "submitted_at"]
    list_filter = ["source", "survey"]
    raw_id_fields = ["community", "collected_by"]
