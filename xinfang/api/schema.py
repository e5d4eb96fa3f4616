"""The OpenAPI schema's error answers: every operation under /api/ may answer any of the common
errors, in the one error shape (``xinfang/api/errors.py``). Declared here once, after the views'
own declarations, so an endpoint cannot forget one and a client (or schemathesis) finds every
status it can receive documented."""

from __future__ import annotations

COMMON = {
    "400": "请求有误：errors 指明出错的字段、查询参数或请求头",
    "401": "令牌无效、已过期或已撤销（Authorization）",
    "403": "未登录，或无权执行此操作",
    "404": "没有这个接口或对象",
    "405": "不支持此请求方法",
    "406": "只能以 JSON 作答（Accept）",
    "415": "请求体格式不受支持（Content-Type）",
    "429": "请求过于频繁（Retry-After）",
}
PROBLEM = {"$ref": "#/components/schemas/Problem"}


def add_error_responses(result, generator, request, public):
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for code, description in COMMON.items():
                responses.setdefault(code, {
                    "content": {"application/json": {"schema": PROBLEM}},
                    "description": description,
                })
    return result
