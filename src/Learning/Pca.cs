namespace LeadEngine.Learning;

/// <summary>
/// Principal components of a set of vectors, whitened: x ↦ ((x − mean)·vₖ / √λₖ)ₖ for the
/// <c>components</c> largest eigenpairs of the covariance (cyclic Jacobi rotations on the d×d
/// covariance). Each output has mean 0 and variance 1 over the fitted set, which is what a
/// Bayesian linear head's isotropic prior assumes.
/// </summary>
public sealed class Pca
{
    private readonly double[] _mean;
    private readonly double[][] _axes; // [component][d], each divided by √λ

    private Pca(double[] mean, double[][] axes)
    {
        _mean = mean;
        _axes = axes;
    }

    /// <summary>Number of components.</summary>
    public int Components => _axes.Length;

    /// <summary>The <paramref name="components"/> leading whitened components of <paramref name="rows"/>.</summary>
    public static Pca Fit(IReadOnlyList<float[]> rows, int components)
    {
        if (rows.Count < 2) throw new ArgumentException("PCA needs at least two rows");
        int d = rows[0].Length;
        components = Math.Min(components, d);
        var mean = new double[d];
        foreach (var r in rows)
            for (int i = 0; i < d; i++) mean[i] += r[i];
        for (int i = 0; i < d; i++) mean[i] /= rows.Count;
        var cov = new double[d, d];
        var centered = new double[d];
        foreach (var r in rows)
        {
            for (int i = 0; i < d; i++) centered[i] = r[i] - mean[i];
            for (int i = 0; i < d; i++)
                for (int j = i; j < d; j++) cov[i, j] += centered[i] * centered[j];
        }
        for (int i = 0; i < d; i++)
            for (int j = i; j < d; j++) cov[j, i] = cov[i, j] /= rows.Count - 1;
        var (values, vectors) = Eigen(cov);
        var order = Enumerable.Range(0, d).OrderByDescending(i => values[i]).Take(components).ToArray();
        var axes = order.Select(k =>
        {
            double scale = 1 / Math.Sqrt(Math.Max(values[k], 1e-12));
            return Enumerable.Range(0, d).Select(i => vectors[i, k] * scale).ToArray();
        }).ToArray();
        return new Pca(mean, axes);
    }

    /// <summary>The whitened components of <paramref name="x"/>.</summary>
    public double[] Transform(float[] x)
    {
        var y = new double[_axes.Length];
        for (int k = 0; k < _axes.Length; k++)
        {
            double s = 0;
            for (int i = 0; i < x.Length; i++) s += (x[i] - _mean[i]) * _axes[k][i];
            y[k] = s;
        }
        return y;
    }

    /// <summary>Eigenvalues and eigenvectors (columns) of a symmetric matrix by cyclic Jacobi rotations.</summary>
    public static (double[] Values, double[,] Vectors) Eigen(double[,] symmetric)
    {
        int n = symmetric.GetLength(0);
        var a = (double[,])symmetric.Clone();
        var v = new double[n, n];
        for (int i = 0; i < n; i++) v[i, i] = 1;
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++) off += a[p, q] * a[p, q];
            if (off < 1e-22) break;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++)
                {
                    if (Math.Abs(a[p, q]) < 1e-300) continue;
                    double theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                    double t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[k, p], akq = a[k, q];
                        a[k, p] = c * akp - s * akq;
                        a[k, q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[p, k], aqk = a[q, k];
                        a[p, k] = c * apk - s * aqk;
                        a[q, k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double vkp = v[k, p], vkq = v[k, q];
                        v[k, p] = c * vkp - s * vkq;
                        v[k, q] = s * vkp + c * vkq;
                    }
                }
        }
        return (Enumerable.Range(0, n).Select(i => a[i, i]).ToArray(), v);
    }
}
