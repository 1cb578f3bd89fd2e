namespace LeadEngine.Feedback;

/// <summary>
/// The store's schema, one numbered step at a time. A database records the steps it has had in
/// <c>schema_migrations</c>; opening it applies the missing ones in one transaction. Never edit a
/// step that has shipped: add the next one. <c>{id}</c>, <c>{time}</c>, <c>{real}</c>, <c>{blob}</c> and <c>{random}</c> (a uniform draw in [0, 1)) are
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
        new(5, "one model history for every host: each version's record and files, and every promotion and rollback", """
            CREATE TABLE model_versions (
                version_id TEXT PRIMARY KEY,
                parent TEXT REFERENCES model_versions(version_id),
                created_at {time} NOT NULL,
                status TEXT NOT NULL,
                trained_until {time},
                note TEXT NOT NULL,
                content_hash TEXT NOT NULL,
                host TEXT NOT NULL);
            CREATE TABLE model_files (
                version_id TEXT NOT NULL REFERENCES model_versions(version_id),
                name TEXT NOT NULL,
                content {blob} NOT NULL,
                PRIMARY KEY (version_id, name));
            CREATE TABLE model_promotions (
                id {id},
                version_id TEXT NOT NULL REFERENCES model_versions(version_id),
                at {time} NOT NULL,
                action TEXT NOT NULL,
                reason TEXT NOT NULL,
                host TEXT NOT NULL);
            """),
        new(6, "each serving host's heartbeat: the version and model it serves, and when it last checked the model history", """
            CREATE TABLE host_heartbeats (
                host_id TEXT PRIMARY KEY,
                version_id TEXT,
                model_version TEXT NOT NULL,
                seen_at {time} NOT NULL);
            """),
        new(7, "each lead's call state (0 callable, 1 on a list within the cool-down, 2 closed by a final outcome), when it was last listed, " +
            "and a sampling place; partial indexes so that a call list reads O(k log n) rows, not every open lead; list candidates without a " +
            "foreign key (they are read from leads in the claim that writes them; PostgreSQL's key-share lock per row cost 33 ms a list)", """
            ALTER TABLE leads ADD COLUMN call_state INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE leads ADD COLUMN listed_at {time};
            ALTER TABLE leads ADD COLUMN sample_key {real} NOT NULL DEFAULT 0;
            UPDATE leads SET sample_key = {random};
            UPDATE leads SET listed_at = (SELECT MAX(r.at) FROM recommendations r WHERE r.lead_id = leads.lead_id);
            UPDATE leads SET call_state = 1 WHERE listed_at IS NOT NULL;
            UPDATE leads SET call_state = 2 WHERE EXISTS (SELECT 1 FROM outcome_events e WHERE e.lead_id = leads.lead_id AND e.kind IN ('converted', 'lost'));
            CREATE INDEX leads_callable_by_probability ON leads (probability DESC, lead_id) WHERE call_state = 0;
            CREATE INDEX leads_callable_by_sample_key ON leads (sample_key, lead_id) WHERE call_state = 0;
            CREATE INDEX leads_listed_by_time ON leads (listed_at) WHERE call_state = 1;
            CREATE TABLE list_candidates_unchecked (
                list_id TEXT NOT NULL,
                lead_id TEXT NOT NULL,
                probability {real} NOT NULL,
                propensity {real} NOT NULL,
                PRIMARY KEY (list_id, lead_id));
            INSERT INTO list_candidates_unchecked (list_id, lead_id, probability, propensity)
                SELECT list_id, lead_id, probability, propensity FROM list_candidates;
            DROP TABLE list_candidates;
            ALTER TABLE list_candidates_unchecked RENAME TO list_candidates;
            """),
        new(8, "when to call: whether each call attempt was answered, and each listed lead's window (its start and end, P(answer) and the " +
            "propensity of that window's choice)", """
            ALTER TABLE outcome_events ADD COLUMN answered INTEGER;
            ALTER TABLE recommendations ADD COLUMN window_start {time};
            ALTER TABLE recommendations ADD COLUMN window_end {time};
            ALTER TABLE recommendations ADD COLUMN p_answer {real};
            ALTER TABLE recommendations ADD COLUMN window_propensity {real};
            CREATE INDEX recommendations_by_window ON recommendations (window_start) WHERE window_start IS NOT NULL;
            """),
    ];
}
