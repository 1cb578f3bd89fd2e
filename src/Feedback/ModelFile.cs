using System.Security.Cryptography;
using System.Text;

namespace LeadEngine.Feedback;

/// <summary>One file of a version's adapter folder, as the store keeps it.</summary>
/// <param name="Name">Its path inside the adapter folder, with '/' between folders.</param>
/// <param name="Content">Its bytes.</param>
public sealed record ModelFile(string Name, byte[] Content)
{
    /// <summary>
    /// The hex SHA-256 over the files in name order, each as its name, a zero byte, its length and its bytes, so
    /// that a renamed or truncated file changes it.
    /// </summary>
    public static string HashOf(IEnumerable<ModelFile> files)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in files.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(file.Name));
            sha.AppendData([0]);
            sha.AppendData(BitConverter.GetBytes((long)file.Content.Length));
            sha.AppendData(file.Content);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
