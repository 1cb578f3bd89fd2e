namespace LeadEngine.Feedback;

/// <summary>
/// The store's schema, one numbered step at a time. A database records the steps it has had in
/// <c>schema_migrations</c>; opening it applies the missing ones in one transaction. Never edit a
/// step that has shipped: add the next one. <c>{id}</c>, <c>{time}</c> and <c>{real}</c> are
/// filled in per database (<see cref="SqlDialect.Sql"/>).
/// </summary>
internal static class Migrations
{
    public sealed record Step(int Version, string Description, string Sql);

    public static IReadOnlyList<Step> All { get; } =
    [
        new(1, "leads, served scores and outcome events", """
            CREATE TABLE leads (
                lead_id TEXT PRIMARY KEY,
                fields TEXT NOT NULL,
                first_seen {time} NOT NULL,
                last_scored {time} NOT NULL,
                model_version TEXT NOT NULL,
                probability {real} NOT NULL,
                ranking_score {real} NOT NULL,
                score INTEGER NOT NULL,
                grade TEXT NOT NULL);
            CREATE TABLE scores (
                id {id},
                lead_id TEXT NOT NULL REFERENCES leads(lead_id),
                at {time} NOT NULL,
                model_version TEXT NOT NULL,
                probability {real} NOT NULL,
                ranking_score {real} NOT NULL,
                score INTEGER NOT NULL,
                grade TEXT NOT NULL);
            CREATE TABLE outcome_events (
                event_id TEXT PRIMARY KEY,
                lead_id TEXT NOT NULL REFERENCES leads(lead_id),
                kind TEXT NOT NULL,
                at {time} NOT NULL,
                call_seconds {real},
                note TEXT,
                received_at {time} NOT NULL);
            CREATE INDEX outcome_events_by_lead ON outcome_events (lead_id, at);
            """),
        new(2, "call-list recommendations with their propensities", """
            CREATE TABLE recommendations (
                id {id},
                list_id TEXT NOT NULL,
                lead_id TEXT NOT NULL REFERENCES leads(lead_id),
                rank INTEGER NOT NULL,
                policy_version TEXT NOT NULL,
                propensity {real} NOT NULL,
                probability {real} NOT NULL,
                at {time} NOT NULL);
            CREATE INDEX recommendations_by_lead ON recommendations (lead_id, at);
            CREATE INDEX scores_by_lead ON scores (lead_id, at);
            """),
        new(3, "every open lead a call list was chosen from, with its propensity (off-policy evaluation needs the whole set)", """
            CREATE TABLE list_candidates (
                list_id TEXT NOT NULL,
                lead_id TEXT NOT NULL REFERENCES leads(lead_id),
                probability {real} NOT NULL,
                propensity {real} NOT NULL,
                PRIMARY KEY (list_id, lead_id));
            """),
        new(4, "API keys: a name, the SHA-256 of the key (never the key), its scopes, and when it was revoked", """
            CREATE TABLE api_keys (
                name TEXT PRIMARY KEY,
                key_hash TEXT NOT NULL UNIQUE,
                scopes TEXT NOT NULL,
                created_at {time} NOT NULL,
                revoked_at {time});
            """),
    ];
}
