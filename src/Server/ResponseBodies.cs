using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;
using LeadEngine.Feedback;
using LeadEngine.LeadScoring;

namespace LeadEngine.Server;

// What the service writes and reads, as types: the JSON bodies are serialised from these (snake_case), and the
// OpenAPI document (/openapi/v1.json) is generated from the same types, so the two cannot drift apart.

/// <summary>The one score record every endpoint writes (score, each call-list entry, a lead's last score).</summary>
public record ScoreFields
{
    /// <summary>The lead.</summary>
    public required string LeadId { get; init; }
    /// <summary>Calibrated conversion probability.</summary>
    public required double Probability { get; init; }
    /// <summary>The pairwise head's score (higher ranks first).</summary>
    public required double RankingScore { get; init; }
    /// <summary>0–100: the probability's percentile among the training leads.</summary>
    public required int Score { get; init; }
    /// <summary>A–D by that percentile.</summary>
    public required string Grade { get; init; }
    /// <summary>The model version that made the score.</summary>
    public required string ModelVersion { get; init; }

    /// <summary>The record of a stored score.</summary>
    public static ScoreFields Of(ServedScore s) => new()
    {
        LeadId = s.LeadId, Probability = s.Probability, RankingScore = s.RankingScore, Score = s.Score, Grade = s.Grade.ToString(), ModelVersion = s.ModelVersion,
    };
}

/// <summary>One reason for a score (<c>?explain=true</c>).</summary>
/// <param name="Kind"><c>feature</c> or <c>dialogue</c>.</param>
/// <param name="Name">The column, or the dialogue sentence.</param>
/// <param name="Value">The lead's value of the column; null for a sentence.</param>
/// <param name="Contribution">Log-odds the part added: positive raised the score.</param>
public sealed record ReasonBody(string Kind, string Name, string? Value, double Contribution)
{
    /// <summary>The body of an explanation's reason.</summary>
    public static ReasonBody Of(ScoreReason r) => new(r.Kind, r.Name, r.Value, r.Contribution);
}

/// <summary><c>POST /v1/score</c>, one lead: its score record, P(Yes), and with <c>?explain=true</c> its reasons.</summary>
public sealed record ScoredLeadBody : ScoreFields
{
    /// <summary>The score record with what this endpoint adds.</summary>
    [SetsRequiredMembers]
    public ScoredLeadBody(ScoreFields score, double pYes, IReadOnlyList<ReasonBody>? reasonsUp, IReadOnlyList<ReasonBody>? reasonsDown) : base(score)
    {
        PYes = pYes;
        ReasonsUp = reasonsUp;
        ReasonsDown = reasonsDown;
    }

    /// <summary>The LM head's P(Yes) against P(No).</summary>
    public double PYes { get; }
    /// <summary>The strongest reasons up (with <c>?explain=true</c>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<ReasonBody>? ReasonsUp { get; }
    /// <summary>The strongest reasons down (with <c>?explain=true</c>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<ReasonBody>? ReasonsDown { get; }
}

/// <summary><c>POST /v1/score</c>, a list of leads.</summary>
/// <param name="ModelVersion">The model version that made the scores.</param>
/// <param name="Scores">One per lead, in request order.</param>
public sealed record ScoreListBody(string ModelVersion, IReadOnlyList<ScoredLeadBody> Scores);

/// <summary>One lead on a call list: its score record, rank and propensity.</summary>
public sealed record CallListEntryBody : ScoreFields
{
    /// <summary>The score record with what a call list adds.</summary>
    [SetsRequiredMembers]
    public CallListEntryBody(ScoreFields score, int rank, double propensity, string policyVersion, CallWindowBody? callWindow = null) : base(score)
    {
        Rank = rank;
        Propensity = propensity;
        PolicyVersion = policyVersion;
        CallWindow = callWindow;
    }

    /// <summary>1 for the first lead to call.</summary>
    public int Rank { get; }
    /// <summary>The probability that the policy lists this lead.</summary>
    public double Propensity { get; }
    /// <summary>The policy and model that chose it.</summary>
    public string PolicyVersion { get; }
    /// <summary>When to call it; null with timing off, or when the reps' capacity in the horizon had no room left.</summary>
    public CallWindowBody? CallWindow { get; }
}

/// <summary>When to call a listed lead.</summary>
/// <param name="Start">The window's start (UTC).</param>
/// <param name="End">Its end.</param>
/// <param name="PAnswer">The lead's P(answer) in the window, by the pick-up model.</param>
/// <param name="Propensity">The chance the planner put the lead in this window.</param>
public sealed record CallWindowBody(DateTimeOffset Start, DateTimeOffset End, double PAnswer, double Propensity)
{
    /// <summary>The body of a stored window.</summary>
    public static CallWindowBody? Of(CallWindow? w) => w is null ? null : new(w.Start, w.End, w.PAnswer, w.Propensity);
}

/// <summary><c>GET /v1/call-list</c>.</summary>
/// <param name="ListId">The list's id (outcomes join to it).</param>
/// <param name="Policy">The policy's name and parameters.</param>
/// <param name="PolicyVersion">The policy and model version that chose the list.</param>
/// <param name="ModelVersion">The model that scored the leads.</param>
/// <param name="GeneratedAt">When the list was claimed.</param>
/// <param name="K">How many leads were asked for.</param>
/// <param name="OpenLeads">Callable leads: exact up to the pool's size, beyond it the pool's head plus the tail sample's estimate.</param>
/// <param name="Candidates">The leads of the pool the list was chosen from (logged with their propensities).</param>
/// <param name="Leads">The listed leads, best first.</param>
public sealed record CallListBody(string ListId, string Policy, string PolicyVersion, string ModelVersion, DateTimeOffset GeneratedAt, int K, int OpenLeads,
    int Candidates, IReadOnlyList<CallListEntryBody> Leads);

/// <summary>An outcome event as <c>GET /v1/leads/{id}</c> returns it (and, these fields, as <c>POST /v1/feedback</c> takes it).</summary>
/// <param name="EventId">The CRM's id of the event: sending it again is a harmless duplicate.</param>
/// <param name="LeadId">The lead (scored before).</param>
/// <param name="Kind"><c>contacted</c>, <c>responded</c>, <c>converted</c>, <c>lost</c> or <c>ignored</c>.</param>
/// <param name="At">When it happened (ISO 8601).</param>
/// <param name="CallSeconds">The call's length, when there was one.</param>
/// <param name="Note">Free text.</param>
/// <param name="Answered">For a call attempt, whether the lead picked up (null when not said; in a lead's <c>attempts</c>, as the attempt is read).</param>
public sealed record EventBody(string EventId, string LeadId, string Kind, DateTimeOffset At, double? CallSeconds, string? Note,
    bool? Answered = null);

/// <summary>One event's fate in <c>POST /v1/feedback</c>.</summary>
/// <param name="EventId">The event.</param>
/// <param name="Status"><c>stored</c> or <c>duplicate</c>.</param>
public sealed record EventStatusBody(string EventId, string Status);

/// <summary><c>POST /v1/feedback</c>: 202 once committed.</summary>
public sealed record FeedbackBody(int Stored, int Duplicates, IReadOnlyList<EventStatusBody> Events);

/// <summary><c>GET /v1/leads/{id}</c>: the lead's columns, latest score, outcome events, how often it was listed, the windows it was listed for, its call attempts.</summary>
public sealed record LeadBody(string LeadId, JsonElement Fields, DateTimeOffset FirstSeen, DateTimeOffset LastScored, ScoreFields LastScore, int Recommendations,
    IReadOnlyList<EventBody> Events, IReadOnlyList<CallWindowBody> CallWindows, IReadOnlyList<EventBody> Attempts);

/// <summary><c>GET /healthz</c>: 200 when the store takes writes, else 503 saying why.</summary>
/// <param name="Status"><c>ok</c>, or why the store cannot take writes.</param>
/// <param name="ModelVersion">The hash of the weights that score (every score carries it too).</param>
/// <param name="PolicyVersion">The policy that chooses call lists, with the model.</param>
/// <param name="SchemaVersion">The store's schema version.</param>
/// <param name="Database">The store's kind and place.</param>
/// <param name="QueuedLeads">Leads waiting to be scored.</param>
/// <param name="History">Which version of the store's model history serves; null when the model is not from a history.</param>
public sealed record HealthBody(string Status, string ModelVersion, string PolicyVersion, int SchemaVersion, string Database, int QueuedLeads,
    HistoryBody? History);

/// <summary>Where a host stands in the store's model history.</summary>
/// <param name="Serving">The version this host serves.</param>
/// <param name="InForce">The version the store had in force at the last check (a host serves it within one check and a load).</param>
/// <param name="CheckedAt">When the store was last checked.</param>
/// <param name="Problem">Why the version in force is not served, when it cannot be loaded; else null.</param>
public sealed record HistoryBody(string Serving, string InForce, DateTimeOffset CheckedAt, string? Problem);
