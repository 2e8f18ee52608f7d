// The JSON Schema draft 2020-12 meta-schema (json-schema.org, as published; copied from the spec's
// schema.json and meta/*.json) in the form @cfworker/json-schema can evaluate: that library implements
// draft 2019-09's $recursiveRef/$recursiveAnchor but not 2020-12's $dynamicRef/$dynamicAnchor, and for the
// meta-schema (one dynamic anchor, "meta", on every vocabulary) the two mean the same. Annotations the
// check never reads ($vocabulary, $comment, title, default, deprecated) are left out. Data only.
// biome-ignore-all lint/suspicious/noThenProperty: "then" here is the JSON Schema keyword, not a promise.
import type { Schema } from "@cfworker/json-schema";

export const META_SCHEMA_ID = "https://json-schema.org/draft/2020-12/schema";

/** The root meta-schema first, then its vocabularies (the root's allOf names them by $id). */
export const META_SCHEMAS: Schema[] = [
  {
    $id: "https://json-schema.org/draft/2020-12/schema",
    $recursiveAnchor: true,
    allOf: [
      {
        $ref: "meta/core",
      },
      {
        $ref: "meta/applicator",
      },
      {
        $ref: "meta/unevaluated",
      },
      {
        $ref: "meta/validation",
      },
      {
        $ref: "meta/meta-data",
      },
      {
        $ref: "meta/format-annotation",
      },
      {
        $ref: "meta/content",
      },
    ],
    type: ["object", "boolean"],
    properties: {
      definitions: {
        type: "object",
        additionalProperties: {
          $recursiveRef: "#",
        },
      },
      dependencies: {
        type: "object",
        additionalProperties: {
          anyOf: [
            {
              $recursiveRef: "#",
            },
            {
              $ref: "meta/validation#/$defs/stringArray",
            },
          ],
        },
      },
      $recursiveAnchor: {
        $ref: "meta/core#/$defs/anchorString",
      },
      $recursiveRef: {
        $ref: "meta/core#/$defs/uriReferenceString",
      },
    },
  },
  {
    $id: "https://json-schema.org/draft/2020-12/meta/core",
    $recursiveAnchor: true,
    type: ["object", "boolean"],
    properties: {
      $id: {
        $ref: "#/$defs/uriReferenceString",
        pattern: "^[^#]*#?$",
      },
      $schema: {
        $ref: "#/$defs/uriString",
      },
      $ref: {
        $ref: "#/$defs/uriReferenceString",
      },
      $anchor: {
        $ref: "#/$defs/anchorString",
      },
      $dynamicRef: {
        $ref: "#/$defs/uriReferenceString",
      },
      $dynamicAnchor: {
        $ref: "#/$defs/anchorString",
      },
      $vocabulary: {
        type: "object",
        propertyNames: {
          $ref: "#/$defs/uriString",
        },
        additionalProperties: {
          type: "boolean",
        },
      },
      $comment: {
        type: "string",
      },
      $defs: {
        type: "object",
        additionalProperties: {
          $recursiveRef: "#",
        },
      },
    },
    $defs: {
      anchorString: {
        type: "string",
        pattern: "^[A-Za-z_][-A-Za-z0-9._]*$",
      },
      uriString: {
        type: "string",
        format: "uri",
      },
      uriReferenceString: {
        type: "string",
        format: "uri-reference",
      },
    },
  },
  {
    $id: "https://json-schema.org/draft/2020-12/meta/applicator",
    $recursiveAnchor: true,
    type: ["object", "boolean"],
    properties: {
      prefixItems: {
        $ref: "#/$defs/schemaArray",
      },
      items: {
        $recursiveRef: "#",
      },
      contains: {
        $recursiveRef: "#",
      },
      additionalProperties: {
        $recursiveRef: "#",
      },
      properties: {
        type: "object",
        additionalProperties: {
          $recursiveRef: "#",
        },
      },
      patternProperties: {
        type: "object",
        additionalProperties: {
          $recursiveRef: "#",
        },
        propertyNames: {
          format: "regex",
        },
      },
      dependentSchemas: {
        type: "object",
        additionalProperties: {
          $recursiveRef: "#",
        },
      },
      propertyNames: {
        $recursiveRef: "#",
      },
      if: {
        $recursiveRef: "#",
      },
      then: {
        $recursiveRef: "#",
      },
      else: {
        $recursiveRef: "#",
      },
      allOf: {
        $ref: "#/$defs/schemaArray",
      },
      anyOf: {
        $ref: "#/$defs/schemaArray",
      },
      oneOf: {
        $ref: "#/$defs/schemaArray",
      },
      not: {
        $recursiveRef: "#",
      },
    },
    $defs: {
      schemaArray: {
        type: "array",
        minItems: 1,
        items: {
          $recursiveRef: "#",
        },
      },
    },
  },
  {
    $id: "https://json-schema.org/draft/2020-12/meta/unevaluated",
    $recursiveAnchor: true,
    type: ["object", "boolean"],
    properties: {
      unevaluatedItems: {
        $recursiveRef: "#",
      },
      unevaluatedProperties: {
        $recursiveRef: "#",
      },
    },
  },
  {
    $id: "https://json-schema.org/draft/2020-12/meta/validation",
    $recursiveAnchor: true,
    type: ["object", "boolean"],
    properties: {
      type: {
        anyOf: [
          {
            $ref: "#/$defs/simpleTypes",
          },
          {
            type: "array",
            items: {
              $ref: "#/$defs/simpleTypes",
            },
            minItems: 1,
            uniqueItems: true,
          },
        ],
      },
      const: true,
      enum: {
        type: "array",
        items: true,
      },
      multipleOf: {
        type: "number",
        exclusiveMinimum: 0,
      },
      maximum: {
        type: "number",
      },
      exclusiveMaximum: {
        type: "number",
      },
      minimum: {
        type: "number",
      },
      exclusiveMinimum: {
        type: "number",
      },
      maxLength: {
        $ref: "#/$defs/nonNegativeInteger",
      },
      minLength: {
        $ref: "#/$defs/nonNegativeIntegerDefault0",
      },
      pattern: {
        type: "string",
        format: "regex",
      },
      maxItems: {
        $ref: "#/$defs/nonNegativeInteger",
      },
      minItems: {
        $ref: "#/$defs/nonNegativeIntegerDefault0",
      },
      uniqueItems: {
        type: "boolean",
      },
      maxContains: {
        $ref: "#/$defs/nonNegativeInteger",
      },
      minContains: {
        $ref: "#/$defs/nonNegativeInteger",
      },
      maxProperties: {
        $ref: "#/$defs/nonNegativeInteger",
      },
      minProperties: {
        $ref: "#/$defs/nonNegativeIntegerDefault0",
      },
      required: {
        $ref: "#/$defs/stringArray",
      },
      dependentRequired: {
        type: "object",
        additionalProperties: {
          $ref: "#/$defs/stringArray",
        },
      },
    },
    $defs: {
      nonNegativeInteger: {
        type: "integer",
        minimum: 0,
      },
      nonNegativeIntegerDefault0: {
        $ref: "#/$defs/nonNegativeInteger",
      },
      simpleTypes: {
        enum: ["array", "boolean", "integer", "null", "number", "object", "string"],
      },
      stringArray: {
        type: "array",
        items: {
          type: "string",
        },
        uniqueItems: true,
      },
    },
  },
  {
    $id: "https://json-schema.org/draft/2020-12/meta/meta-data",
    $recursiveAnchor: true,
    type: ["object", "boolean"],
    properties: {
      title: {
        type: "string",
      },
      description: {
        type: "string",
      },
      default: true,
      deprecated: {
        type: "boolean",
      },
      readOnly: {
        type: "boolean",
      },
      writeOnly: {
        type: "boolean",
      },
      examples: {
        type: "array",
        items: true,
      },
    },
  },
  {
    $id: "https://json-schema.org/draft/2020-12/meta/format-annotation",
    $recursiveAnchor: true,
    type: ["object", "boolean"],
    properties: {
      format: {
        type: "string",
      },
    },
  },
  {
    $id: "https://json-schema.org/draft/2020-12/meta/content",
    $recursiveAnchor: true,
    type: ["object", "boolean"],
    properties: {
      contentEncoding: {
        type: "string",
      },
      contentMediaType: {
        type: "string",
      },
      contentSchema: {
        $recursiveRef: "#",
      },
    },
  },
];
