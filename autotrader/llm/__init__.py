"""The model client: structured output over the openai SDK (Responses and Chat Completions),
the invocation audit, the response cache and token/cost accounting.

``client`` (``ModelClient``, ``LlmConfig``, ``ModelResult``) makes calls, ``structured`` reads a
model's text into a validated pydantic object, ``repo`` is the only SQL of the llm tables. The
openai SDK is imported only when the first call is made.
"""
