using Prometheus;

namespace LeadEngine.Server;

/// <summary>
/// The service's Prometheus metrics, in a registry of its own (so several servers in one process
/// keep theirs apart). HTTP request counts and latency histograms per endpoint come from
/// prometheus-net's middleware on the same registry.
/// </summary>
internal sealed class ServerMetrics
{
    public CollectorRegistry Registry { get; } = Metrics.NewCustomRegistry();
    public IMetricFactory Factory { get; }
    public Gauge ModelInfo { get; }
    public Histogram BatchSize { get; }
    public Histogram BatchSeconds { get; }
    public Gauge QueuedLeads { get; }
    public Counter Rejected { get; }
    public Counter LeadsScored { get; }
    public Counter FeedbackEvents { get; }
    public Counter Recommendations { get; }

    public ServerMetrics(string modelVersion, string policyVersion)
    {
        Factory = Metrics.WithCustomRegistry(Registry);
        ModelInfo = Factory.CreateGauge("leadengine_model_info", "The model and policy being served (value 1).",
            new GaugeConfiguration { LabelNames = ["model_version", "policy_version"] });
        ModelInfo.WithLabels(modelVersion, policyVersion).Set(1);
        BatchSize = Factory.CreateHistogram("leadengine_score_batch_size", "Leads per forward pass on the engine.",
            new HistogramConfiguration { Buckets = [1, 2, 4, 8, 16, 32, 64, 128] });
        BatchSeconds = Factory.CreateHistogram("leadengine_score_batch_seconds", "Engine time per batch.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2, 14) });
        QueuedLeads = Factory.CreateGauge("leadengine_scoring_queue_leads", "Leads waiting for or in the engine.");
        Rejected = Factory.CreateCounter("leadengine_rejected_requests_total", "Requests refused before work, by reason.",
            new CounterConfiguration { LabelNames = ["reason"] });
        LeadsScored = Factory.CreateCounter("leadengine_leads_scored_total", "Leads scored.");
        FeedbackEvents = Factory.CreateCounter("leadengine_feedback_events_total", "Outcome events received, by result.",
            new CounterConfiguration { LabelNames = ["result"] });
        Recommendations = Factory.CreateCounter("leadengine_recommendations_total", "Leads handed out on call lists.");
    }
}
