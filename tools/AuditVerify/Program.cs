using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using ServerlessImaging.Adapters.Audit;
using ServerlessImaging.Adapters.Cosmos;
using ServerlessImaging.AuditVerify;
using ServerlessImaging.Orchestration.Audit.Integrity;

// audit-verify range [--from T] [--to T] | registration ID | anchor --out FILE   (common: --anchor FILE --public-key FILE
// --key FILE --database NAME --connection-string CS --json). Exit 0 intact, 1 tampering found, 2 usage or I/O error.
try
{
    var options = CommandLine.Parse(args);
    using var client = CosmosClientFactory.Create(new CosmosOptions { ConnectionString = options.ConnectionString }, null);
    var trail = new CosmosAuditTrail(client.GetContainer(options.Database, "audit"), "audit-verify");
    using var cancel = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        cancel.Cancel();
    };

    if (options.Command == "anchor")
    {
        // Development: the local key (created at first use). In Azure anchors are issued by the app with its Key Vault key.
        using var signer = LocalPemAnchorSigner.LoadOrCreate(options.KeyPath);
        var anchor = await AuditAnchorIssuer.IssueAsync(trail.Chain, signer, TimeProvider.System, cancel.Token);
        if (anchor is null)
        {
            Console.Error.WriteLine("The chain is empty: nothing to anchor.");
            return 2;
        }

        var exported = new ExportedAnchor(anchor, Convert.ToBase64String(await signer.PublicKeyAsync(cancel.Token)));
        await File.WriteAllTextAsync(options.OutPath!, JsonSerializer.Serialize(exported, CommandLine.JsonOptions), cancel.Token);
        Console.WriteLine($"anchor: block {anchor.Head.Position} {anchor.Head.Hash} signed by {anchor.KeyId} -> {options.OutPath}");
        return 0;
    }

    AuditChainHead? trusted = null;
    if (options.AnchorPath is not null)
    {
        var exported = JsonSerializer.Deserialize<ExportedAnchor>(await File.ReadAllTextAsync(options.AnchorPath, cancel.Token), CommandLine.JsonOptions)
            ?? throw new UsageException("The anchor file is empty.");

        // The public key must come from somewhere the database's users cannot write: --public-key, else the local key.
        var publicKey = options.PublicKeyPath is not null
            ? PublicKeyFromPem(await File.ReadAllTextAsync(options.PublicKeyPath, cancel.Token))
            : await LocalPublicKeyAsync(options.KeyPath, cancel.Token);
        if (!AuditAnchors.IsSignedBy(exported.Anchor, publicKey))
        {
            Console.Error.WriteLine($"The anchor's signature does not verify with the given key (key id {exported.Anchor.KeyId}).");
            return 1;
        }

        trusted = exported.Anchor.Head;
    }

    var verification = new CosmosAuditVerification(trail, TimeProvider.System);
    var report = options.Command == "registration"
        ? await verification.VerifyRegistrationAsync(options.RegistrationId!, trusted, cancel.Token)
        : await verification.VerifyRangeAsync(options.From, options.To, trusted, cancel.Token);
    if (options.AsJson)
    {
        Console.WriteLine(JsonSerializer.Serialize(report, CommandLine.JsonOptions));
    }
    else
    {
        Console.WriteLine($"{(report.Intact ? "INTACT" : "TAMPERED")}: {report.RecordsChecked} record(s), {report.RecordsSealed} sealed, blocks {report.FirstBlock?.ToString(CultureInfo.InvariantCulture) ?? "-"}..{report.LastBlock?.ToString(CultureInfo.InvariantCulture) ?? "-"}{(trusted is null ? string.Empty : $", anchor at block {trusted.Position} checked")}");
        foreach (var finding in report.Findings)
        {
            Console.WriteLine($"  {finding.Kind,-11} {finding.Code,-24} record={finding.RecordId ?? "-"} block={finding.BlockPosition?.ToString(CultureInfo.InvariantCulture) ?? "-"} registration={finding.RegistrationId ?? "-"} sequence={finding.Sequence?.ToString(CultureInfo.InvariantCulture) ?? "-"}{(finding.Stream is null ? string.Empty : " stream=" + finding.Stream)}{(finding.OtherRecordId is null ? string.Empty : " with=" + finding.OtherRecordId)}");
        }
    }

    return report.Intact ? 0 : 1;
}
catch (UsageException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(CommandLine.Usage);
    return 2;
}
catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException or Microsoft.Azure.Cosmos.CosmosException or CosmosStoreException or HttpRequestException)
{
    Console.Error.WriteLine($"audit-verify: {ex.GetType().Name}: {ex.Message}");
    return 2;
}

static byte[] PublicKeyFromPem(string pem)
{
    using var key = System.Security.Cryptography.ECDsa.Create();
    key.ImportFromPem(pem);
    return key.ExportSubjectPublicKeyInfo();
}

static async Task<byte[]> LocalPublicKeyAsync(string path, CancellationToken cancellationToken)
{
    if (!File.Exists(path))
    {
        throw new UsageException($"No --public-key given and no local key at {path}.");
    }

    using var signer = LocalPemAnchorSigner.LoadOrCreate(path);
    return await signer.PublicKeyAsync(cancellationToken);
}

namespace ServerlessImaging.AuditVerify
{
    /// <summary>What <c>audit-verify anchor</c> writes: the signed anchor and the public key it verifies with (for convenience only: trust the key you hold, not this copy).</summary>
    internal sealed record ExportedAnchor(AuditChainAnchor Anchor, string PublicKey);

    /// <summary>A usage error (exit code 2).</summary>
    internal sealed class UsageException(string message) : Exception(message);

    /// <summary>Parsed command line.</summary>
    internal sealed record CommandLine(
        string Command, string? RegistrationId, DateTimeOffset From, DateTimeOffset To, string? AnchorPath, string? PublicKeyPath,
        string KeyPath, string? OutPath, string Database, string ConnectionString, bool AsJson)
    {
        public const string Usage = """
            usage: tools/audit-verify range [--from ISO-8601] [--to ISO-8601]      (default: the last 24 h)
                   tools/audit-verify registration REGISTRATION-ID
                   tools/audit-verify anchor --out FILE                           (sign the chain head with the local key)
            options: --anchor FILE (check the chain against a signed anchor) --public-key PEM (key to check it with)
                     --key PEM (local signing key, default .local/audit/anchor-key.pem) --database NAME
                     --connection-string CS (default: Cosmos__ConnectionString, else .local/stack/stack.json) --json
            exit: 0 intact, 1 tampering found, 2 usage or I/O error
            """;

        public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
        {
            WriteIndented = true,
            Converters = { new JsonStringEnumConverter() },
        };

        public static CommandLine Parse(string[] args)
        {
            if (args.Length == 0 || args[0] is not ("range" or "registration" or "anchor"))
            {
                throw new UsageException("A command is needed: range, registration or anchor.");
            }

            var command = args[0];
            string? registrationId = null;
            var named = new Dictionary<string, string>(StringComparer.Ordinal);
            var json = false;
            for (var i = 1; i < args.Length; i++)
            {
                if (args[i] == "--json")
                {
                    json = true;
                }
                else if (args[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length)
                {
                    named[args[i][2..]] = args[++i];
                }
                else if (command == "registration" && registrationId is null)
                {
                    registrationId = args[i];
                }
                else
                {
                    throw new UsageException($"Unexpected argument {args[i]}.");
                }
            }

            if (command == "registration" && registrationId is null)
            {
                throw new UsageException("registration needs a registration id.");
            }

            if (command == "anchor" && !named.ContainsKey("out"))
            {
                throw new UsageException("anchor needs --out FILE.");
            }

            var to = Time(named, "to") ?? DateTimeOffset.UtcNow;
            var from = Time(named, "from") ?? to.AddDays(-1);
            var root = RepositoryRoot();
            return new CommandLine(
                command, registrationId, from, to, named.GetValueOrDefault("anchor"), named.GetValueOrDefault("public-key"),
                named.GetValueOrDefault("key") ?? Path.Combine(root, ".local", "audit", "anchor-key.pem"), named.GetValueOrDefault("out"),
                named.GetValueOrDefault("database") ?? ServerlessImaging.Contracts.ResourceNames.CosmosDatabase,
                named.GetValueOrDefault("connection-string") ?? Environment.GetEnvironmentVariable("Cosmos__ConnectionString") ?? StackConnectionString(root),
                json);
        }

        private static DateTimeOffset? Time(Dictionary<string, string> named, string name) =>
            !named.TryGetValue(name, out var value) ? null
            : DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) ? at
            : throw new UsageException($"--{name} is not an ISO 8601 date-time.");

        private static string RepositoryRoot()
        {
            for (var directory = new DirectoryInfo(Environment.CurrentDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "ServerlessImaging.sln")))
                {
                    return directory.FullName;
                }
            }

            return Environment.CurrentDirectory;
        }

        private static string StackConnectionString(string root)
        {
            var path = Path.Combine(root, ".local", "stack", "stack.json");
            if (!File.Exists(path))
            {
                throw new UsageException("No --connection-string, no Cosmos__ConnectionString and no .local/stack/stack.json (tools/stack up).");
            }

            using var stack = JsonDocument.Parse(File.ReadAllText(path));
            return stack.RootElement.GetProperty("cosmos").GetProperty("connectionString").GetString()
                ?? throw new UsageException("stack.json has no Cosmos connection string.");
        }
    }
}
