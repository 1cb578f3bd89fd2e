using System.Text.Json.Nodes;
using LeadEngine.Feedback;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace LeadEngine.Server;

/// <summary>
/// What <c>/openapi/v1.json</c> says beyond the typed response bodies: the query parameters and request bodies the endpoints
/// read by hand (<see cref="RequestReader"/> names the field at fault, which model binding would not), the refusals each
/// endpoint can answer, and the problem document's <c>field</c>.
/// </summary>
internal static class OpenApiDescriptions
{
    /// <summary>Statuses every endpoint under <c>/v1</c> may answer besides its own: bad input, keys, limits, a store that takes no writes.</summary>
    private static readonly int[] CommonRefusals =
    [
        StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status429TooManyRequests,
        StatusCodes.Status503ServiceUnavailable,
    ];

    /// <summary>The refusals an endpoint answers, each a problem document naming the field.</summary>
    public static RouteHandlerBuilder Refusals(this RouteHandlerBuilder endpoint, params int[] more)
    {
        foreach (int status in CommonRefusals.Concat(more).Distinct()) endpoint.ProducesProblem(status);
        return endpoint;
    }

    /// <summary>A query parameter the endpoint reads.</summary>
    public static RouteHandlerBuilder Query(this RouteHandlerBuilder endpoint, string name, JsonSchemaType type, bool required, string description) =>
        endpoint.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = name, In = ParameterLocation.Query, Required = required, Description = description, Schema = new OpenApiSchema { Type = type },
            });
            return Task.CompletedTask;
        });

    /// <summary>The JSON request body: one <paramref name="item"/> or a list of them.</summary>
    public static RouteHandlerBuilder OneOrListBody(this RouteHandlerBuilder endpoint, string description, OpenApiSchema item) =>
        endpoint.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Description = description, Required = true,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = new OpenApiSchema { OneOf = [item, new OpenApiSchema { Type = JsonSchemaType.Array, Items = item }] } },
                },
            };
            return Task.CompletedTask;
        });

    /// <summary>The 200 answer is <typeparamref name="TOne"/> for one item or <typeparamref name="TList"/> for a list: both, as oneOf.</summary>
    public static RouteHandlerBuilder OneOrListResponse<TOne, TList>(this RouteHandlerBuilder endpoint) =>
        endpoint.Produces<TOne>().AddOpenApiOperationTransformer(async (operation, context, cancel) =>
        {
            if (operation.Responses?.TryGetValue("200", out var ok) != true || ok!.Content?.TryGetValue("application/json", out var media) != true) return;
            var list = await context.GetOrCreateSchemaAsync(typeof(TList), null, cancel);
            context.Document!.AddComponent(typeof(TList).Name, list);
            media!.Schema = new OpenApiSchema { OneOf = [media.Schema!, new OpenApiSchemaReference(typeof(TList).Name, context.Document)] };
        });

    /// <summary>A lead in the lead file schema: the id, the creation time, the dialogue, and the feature columns the adapter was trained on.</summary>
    public static OpenApiSchema Lead() => new()
    {
        Type = JsonSchemaType.Object,
        Required = new HashSet<string> { "lead_id" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["lead_id"] = Text($"at most {RequestReader.MaxIdLength} characters, kept as sent: no '/', '\\\\', control characters or surrounding whitespace"),
            ["created_at"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "date-time", Description = "ISO 8601; a date alone is midnight UTC" },
            ["dialogue"] = Text("the conversation so far; its sentences are the parts ?explain=true leaves out"),
        },
        AdditionalPropertiesAllowed = true,
        Description = "Any other field is a feature column the adapter was trained on (lead_schema.json): a string, a number (finite, for a column numeric in training), a boolean or null (missing).",
    };

    /// <summary>An outcome event.</summary>
    public static OpenApiSchema Event() => new()
    {
        Type = JsonSchemaType.Object,
        Required = new HashSet<string> { "event_id", "lead_id", "kind", "at" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["event_id"] = Text("the CRM's id of the event, kept as sent: the same event sent again is a duplicate, another event under it 409"),
            ["lead_id"] = Text("a lead scored before"),
            ["kind"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [.. OutcomeKinds.Names.Select(n => (JsonNode)JsonValue.Create(n)!)] },
            ["at"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "date-time", Description = "when it happened, ISO 8601" },
            ["call_seconds"] = new OpenApiSchema { Type = JsonSchemaType.Number | JsonSchemaType.Null, Description = $"0 to {RequestReader.MaxCallSeconds}" },
            ["note"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null, Description = $"at most {RequestReader.MaxNoteLength} characters" },
            ["answered"] = new OpenApiSchema { Type = JsonSchemaType.Boolean | JsonSchemaType.Null, Description = "for a call attempt: whether the lead picked up (absent: contacted and responded count as answered, ignored as not)" },
        },
        AdditionalPropertiesAllowed = false,
    };

    private static OpenApiSchema Text(string description) => new() { Type = JsonSchemaType.String, Description = description };

    /// <summary>The problem document every refusal is, with the field at fault (<c>$.leads[2].created_at</c>, <c>k</c>, <c>Authorization</c>).</summary>
    public static void DescribeProblemField(OpenApiOptions options) => options.AddSchemaTransformer((schema, context, _) =>
    {
        if (context.JsonTypeInfo.Type == typeof(ProblemDetails))
        {
            schema.Properties ??= new Dictionary<string, IOpenApiSchema>();
            schema.Properties["field"] = Text("the field at fault: a JSON path into the body, a query parameter, or a header");
        }
        return Task.CompletedTask;
    });
}
