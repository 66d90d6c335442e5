{#
  pgtrickle_dollar_quote(text)
  Dollar-quote a query body so quotes and `$` signs in it need no escaping.
  The tag is `$pgtq$`, `$pgtq1$`, ... : the first one whose opening part (`$pgtq`, `$pgtq1`, ...)
  does not occur anywhere in the text, so the body can never close the quote early.
  Returns: SQL text.
#}
{% macro pgtrickle_dollar_quote(text) -%}
  {%- set ns = namespace(tag='pgtq') -%}
  {%- for i in range(1, 100) -%}
    {%- if ('$' ~ ns.tag) in text -%}
      {%- set ns.tag = 'pgtq' ~ i -%}
    {%- endif -%}
  {%- endfor -%}
  {{- '$' ~ ns.tag ~ '$' ~ text ~ '$' ~ ns.tag ~ '$' -}}
{%- endmacro %}
