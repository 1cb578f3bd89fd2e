using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace LeadEngine.Tests.Serving;

/// <summary>
/// <c>serve</c> that cannot start says why in one line and exits 1 (it ended in a 50-line stack trace and exit 134): a port
/// in use, an address this machine does not have, a certificate without its key.
/// </summary>
public sealed class StartupErrorTests(ServingFixture fixture) : IClassFixture<ServingFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("le-start-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private (int Code, string Err) Serve(params string[] args)
    {
        var (code, _, err) = CliRunner.Run(["serve", "--adapter", fixture.AdapterDir, "--db", Path.Combine(_dir, "feedback.db"), "--create-db",
            "--device", "cpu", .. args]);
        return (code, err);
    }

    private static void OneLine(int code, string err, string expected)
    {
        Assert.True(code == 1, $"exit {code}: {err}");
        Assert.Contains(expected, err);
        Assert.DoesNotContain("   at ", err);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("leadengine: error:", StringComparison.Ordinal));
    }

    [Fact]
    public void APortInUseIsOneLine()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var (code, err) = Serve("--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        OneLine(code, err, $"cannot listen on 127.0.0.1 port {port}");
    }

    [Fact]
    public void AnAddressThisMachineDoesNotHaveIsOneLine()
    {
        // 192.0.2.1 (TEST-NET-1, RFC 5737) is never assigned here: binding fails before any packet is sent.
        var (code, err) = Serve("--bind", "192.0.2.1", "--require-keys", "--port", "0");
        OneLine(code, err, "cannot listen on 192.0.2.1");
    }

    [Fact]
    public void ACertificateWithoutItsKeyIsOneLine()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        string pem = Path.Combine(_dir, "server.pem");
        File.WriteAllText(pem, certificate.ExportCertificatePem());
        var (code, err) = Serve("--tls-cert", pem, "--port", "0");
        OneLine(code, err, "--tls-key");
    }
}
