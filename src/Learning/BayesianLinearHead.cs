namespace LeadEngine.Learning;

/// <summary>
/// Bayesian linear regression of the reward on a lead's features, updated in closed form:
/// prior w ~ N(m₀, diag(1/λ)), reward = wᵀx + N(0, σ²). After observations X, r the posterior is
/// N(μ, A⁻¹) with precision A = diag(λ) + XᵀX/σ² and μ = A⁻¹(diag(λ)·m₀ + Xᵀr/σ²). Each update is a
/// rank-one change of A; the Cholesky factor A = LLᵀ is recomputed on the next read. Thompson
/// sampling draws w = μ + L⁻ᵀz, z ~ N(0, I), whose covariance is A⁻¹.
/// </summary>
public sealed class BayesianLinearHead
{
    private readonly int _dim;
    private readonly double _noiseVariance;
    private readonly double[] _precision; // A, row-major d×d
    private readonly double[] _shift;     // diag(λ)·m₀ + Xᵀr/σ²
    private double[]? _cholesky;          // L, lower, row-major
    private double[]? _mean;

    /// <param name="priorMean">m₀.</param>
    /// <param name="priorPrecision">λ per weight.</param>
    /// <param name="noiseVariance">σ².</param>
    public BayesianLinearHead(double[] priorMean, double[] priorPrecision, double noiseVariance)
    {
        if (priorMean.Length != priorPrecision.Length) throw new ArgumentException("prior mean and precision differ in length");
        if (priorPrecision.Any(p => p <= 0) || noiseVariance <= 0) throw new ArgumentOutOfRangeException(nameof(priorPrecision), "precisions and the noise variance must be positive");
        _dim = priorMean.Length;
        _noiseVariance = noiseVariance;
        _precision = new double[_dim * _dim];
        _shift = new double[_dim];
        for (int i = 0; i < _dim; i++)
        {
            _precision[i * _dim + i] = priorPrecision[i];
            _shift[i] = priorPrecision[i] * priorMean[i];
        }
    }

    /// <summary>Number of features.</summary>
    public int Dimension => _dim;

    /// <summary>Observations so far.</summary>
    public int Observations { get; private set; }

    /// <summary>Adds one observation (features <paramref name="x"/>, reward <paramref name="reward"/>).</summary>
    public void Update(ReadOnlySpan<double> x, double reward)
    {
        if (x.Length != _dim) throw new ArgumentException($"{x.Length} features, the head has {_dim}");
        // Only the non-zero features change A and the shift: O(nnz²), where one-hot features (the pick-up model's slots) are most of x.
        Span<int> nonZero = _dim <= 1024 ? stackalloc int[_dim] : new int[_dim];
        int count = 0;
        for (int i = 0; i < _dim; i++)
            if (x[i] != 0) nonZero[count++] = i;
        foreach (int i in nonZero[..count])
        {
            double xi = x[i] / _noiseVariance;
            _shift[i] += xi * reward;
            foreach (int j in nonZero[..count]) _precision[i * _dim + j] += xi * x[j];
        }
        Observations++;
        _cholesky = null;
        _mean = null;
    }

    /// <summary>The posterior mean μ.</summary>
    public double[] Mean
    {
        get
        {
            if (_mean is not null) return _mean;
            var l = Factor();
            // A μ = shift: L y = shift, then Lᵀ μ = y.
            var y = (double[])_shift.Clone();
            for (int i = 0; i < _dim; i++)
            {
                double s = y[i];
                for (int j = 0; j < i; j++) s -= l[i * _dim + j] * y[j];
                y[i] = s / l[i * _dim + i];
            }
            return _mean = SolveUpper(l, y);
        }
    }

    /// <summary>The posterior mean's prediction μᵀx.</summary>
    public double Predict(ReadOnlySpan<double> x) => Dot(Mean, x);

    /// <summary>
    /// A Bayesian head that starts out predicting the scorer's probability (prior mean 1 on p, 0
    /// elsewhere) and learns from outcomes how far to trust it, how recency matters and what the
    /// hidden state's components add.
    /// </summary>
    public static BayesianLinearHead StartingFromProbability(int dimension, int looseLeading = 3)
    {
        var mean = new double[dimension];
        mean[1] = 1;
        // Prior sd 0.1 per component and column weight (a whitened component's whole spread moves the
        // reward by about ±0.3 at most), 0.32 on the first looseLeading weights (the intercept, p and, in
        // the simulator, p × days open); reward noise variance 0.05.
        var precision = Enumerable.Repeat(100.0, dimension).ToArray();
        for (int i = 0; i < Math.Min(looseLeading, dimension); i++) precision[i] = 10;
        return new BayesianLinearHead(mean, precision, noiseVariance: 0.05);
    }

    /// <summary>
    /// One draw of the weights from the posterior with its spread scaled by <paramref name="scale"/>
    /// (1: the posterior itself; below 1 explores less, as in linear Thompson sampling's v).
    /// </summary>
    public double[] SampleWeights(Random rng, double scale = 1)
    {
        var l = Factor();
        var z = new double[_dim];
        for (int i = 0; i < _dim; i++) z[i] = scale * Statistics.StandardNormal(rng);
        var offset = SolveUpper(l, z); // L⁻ᵀ z
        var mean = Mean;
        for (int i = 0; i < _dim; i++) offset[i] += mean[i];
        return offset;
    }

    /// <summary>The posterior variance of the prediction for <paramref name="x"/>: xᵀA⁻¹x.</summary>
    public double PredictiveVariance(ReadOnlySpan<double> x)
    {
        var l = Factor();
        double sum = 0;
        var y = new double[_dim];
        for (int i = 0; i < _dim; i++)
        {
            double s = x[i];
            for (int j = 0; j < i; j++) s -= l[i * _dim + j] * y[j];
            y[i] = s / l[i * _dim + i];
            sum += y[i] * y[i];
        }
        return sum;
    }

    /// <summary>Dot product of weights and features.</summary>
    public static double Dot(IReadOnlyList<double> w, ReadOnlySpan<double> x)
    {
        double s = 0;
        for (int i = 0; i < x.Length; i++) s += w[i] * x[i];
        return s;
    }

    private double[] SolveUpper(double[] l, double[] y)
    {
        // Lᵀ v = y, Lᵀ upper triangular with (Lᵀ)[i, j] = L[j, i].
        var v = new double[_dim];
        for (int i = _dim - 1; i >= 0; i--)
        {
            double s = y[i];
            for (int j = i + 1; j < _dim; j++) s -= l[j * _dim + i] * v[j];
            v[i] = s / l[i * _dim + i];
        }
        return v;
    }

    private double[] Factor()
    {
        if (_cholesky is not null) return _cholesky;
        var l = new double[_dim * _dim];
        for (int i = 0; i < _dim; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double s = _precision[i * _dim + j];
                for (int k = 0; k < j; k++) s -= l[i * _dim + k] * l[j * _dim + k];
                if (i == j)
                {
                    if (s <= 0) throw new InvalidOperationException("posterior precision is not positive definite");
                    l[i * _dim + i] = Math.Sqrt(s);
                }
                else l[i * _dim + j] = s / l[j * _dim + j];
            }
        }
        return _cholesky = l;
    }
}
