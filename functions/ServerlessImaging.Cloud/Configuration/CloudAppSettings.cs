namespace ServerlessImaging.Cloud.Configuration;

/// <summary>
/// Every application setting the cloud app reads, in the environment-variable form the
/// Functions host passes (<c>Section__Key</c>). The Bicep function app module must set each
/// required one; a contract test compares this list with the compiled template.
/// </summary>
public static class CloudAppSettings
{
    public const string QueueServiceUri = "Storage__QueueServiceUri";
    public const string BlobServiceUri = "Storage__BlobServiceUri";

    /// <summary>Tables of the storage account: the Durable Task hub's history and instances (the Functions app's Durable extension and the standalone host).</summary>
    public const string TableServiceUri = "Storage__TableServiceUri";
    public const string CosmosAccountEndpoint = "Cosmos__AccountEndpoint";
    public const string CosmosDatabaseName = "Cosmos__DatabaseName";
    public const string DicomWebBaseUrl = "DicomWeb__BaseUrl";
    public const string DicomWebTokenScope = "DicomWeb__TokenScope";
    public const string AuthAuthority = "Auth__Authority";
    public const string AuthAudience = "Auth__Audience";
    public const string SmtpHost = "Smtp__Host";
    public const string SmtpPort = "Smtp__Port";
    public const string SmtpSecurity = "Smtp__Security";
    public const string SmtpFrom = "Smtp__From";
    public const string SmtpUserName = "Smtp__UserName";
    public const string SmtpPassword = "Smtp__Password";
    public const string ViewerStudyUrlTemplate = "Viewer__StudyUrlTemplate";
    public const string SiteIds = "Sites__Ids";

    /// <summary>Base64 secret (at least 32 bytes) keying the pseudonymous patient key of audit records and logs (a Key Vault reference in Azure); local runs fall back to a public development secret.</summary>
    public const string PseudonymisationSecret = "Identity__PseudonymisationSecret";

    /// <summary>Development only (refused elsewhere): JWKS file of the local stack's signing key (tokens are validated against it instead of the authority's metadata).</summary>
    public const string AuthDevelopmentJwksPath = "Auth__DevelopmentJwksPath";

    /// <summary>Development only (refused elsewhere): the test crash point (<see cref="Runtime.FaultInjection"/>), an environment variable.</summary>
    public const string FaultInjection = Runtime.FaultInjection.Variable;

    /// <summary>A storage connection string (Azurite locally, account key): replaces the three service URIs.</summary>
    public const string StorageConnectionString = "Storage__ConnectionString";

    /// <summary>A Cosmos DB key connection string (the stand-in locally): replaces <see cref="CosmosAccountEndpoint"/>; a loopback endpoint is Development only.</summary>
    public const string CosmosConnectionString = "Cosmos__ConnectionString";

    /// <summary>How long refused (401/403) requests of one source, route and reason are aggregated into one audit record (default 1 min).</summary>
    public const string AuditRefusalWindow = "Audit__RefusalWindow";

    /// <summary>URI of the Key Vault key (EC P-256) that signs audit chain anchors; without it anchors are signed only in Development, with a local key.</summary>
    public const string AuditAnchorKeyId = "Audit__AnchorKeyId";

    /// <summary>Development: PEM file of the local anchor key (default <c>.local/audit/anchor-key.pem</c>, created at first use).</summary>
    public const string AuditAnchorKeyPath = "Audit__AnchorKeyPath";

    /// <summary>Host name or address of the ATNA collector (a SIEM's syslog/TLS audit record repository); without it the audit trail is not exported.</summary>
    public const string AuditAtnaHost = "Audit__Atna__Host";

    /// <summary>Its syslog/TLS port (default 6514).</summary>
    public const string AuditAtnaPort = "Audit__Atna__Port";

    /// <summary>PEM text of the CA(s) the collector's certificate must chain to (a Key Vault reference in Azure).</summary>
    public const string AuditAtnaCaCertificatePem = "Audit__Atna__CaCertificatePem";

    /// <summary>Or a PEM file of them (local runs).</summary>
    public const string AuditAtnaCaCertificatePath = "Audit__Atna__CaCertificatePath";

    /// <summary>The name the collector's certificate carries, when it is not <see cref="AuditAtnaHost"/>.</summary>
    public const string AuditAtnaTargetName = "Audit__Atna__TargetName";

    /// <summary>PEM file of our client certificate, for collectors that authenticate senders (optional).</summary>
    public const string AuditAtnaClientCertificatePath = "Audit__Atna__ClientCertificatePath";

    /// <summary>PEM file of its private key, when not in the certificate's file.</summary>
    public const string AuditAtnaClientKeyPath = "Audit__Atna__ClientKeyPath";

    /// <summary>AuditEnterpriseSiteID of the exported messages (the hosting organisation).</summary>
    public const string AuditAtnaEnterpriseSiteId = "Audit__Atna__EnterpriseSiteId";

    /// <summary>The app's base URL as relays reach it: DeliverStudy commands name <c>{this}delivery-source/</c> as the study's source.</summary>
    public const string DeliverySourceBaseUrl = "Delivery__SourceBaseUrl";

    /// <summary>Base64 HMAC key (at least 32 bytes) of delivery tokens (a Key Vault reference in Azure); local runs fall back to a public development key.</summary>
    public const string DeliverySourceTokenSecret = "Delivery__SourceTokenSecret";

    /// <summary>Settings a deployment in Azure must provide (managed identity everywhere, so no keys).</summary>
    public static readonly IReadOnlyList<string> RequiredInAzure =
    [
        QueueServiceUri,
        BlobServiceUri,
        TableServiceUri,
        CosmosAccountEndpoint,
        CosmosDatabaseName,
        DicomWebBaseUrl,
        DicomWebTokenScope,
        AuthAuthority,
        AuthAudience,
        SmtpHost,
        SmtpPort,
        SmtpSecurity,
        SmtpFrom,
        ViewerStudyUrlTemplate,
        SiteIds,
        PseudonymisationSecret,
        DeliverySourceBaseUrl,
        DeliverySourceTokenSecret,
    ];

    /// <summary>Settings that are optional (SMTP credentials come from Key Vault references when the relay needs them).</summary>
    public static readonly IReadOnlyList<string> Optional = [SmtpUserName, SmtpPassword, StorageConnectionString, CosmosConnectionString, AuthDevelopmentJwksPath, AuditRefusalWindow, AuditAnchorKeyId, AuditAnchorKeyPath,
        AuditAtnaHost, AuditAtnaPort, AuditAtnaCaCertificatePem, AuditAtnaCaCertificatePath, AuditAtnaTargetName, AuditAtnaClientCertificatePath, AuditAtnaClientKeyPath, AuditAtnaEnterpriseSiteId];

    /// <summary>
    /// Switches that loosen security for local runs and tests, refused outside the Development environment
    /// (<see cref="CloudStartupCheck"/>); a loopback Cosmos DB endpoint (self-signed certificate accepted) is the third.
    /// </summary>
    public static readonly IReadOnlyList<string> DevelopmentOnly = [AuthDevelopmentJwksPath, FaultInjection];

    /// <summary>Required settings another one can stand for (connection strings instead of service URIs or the account endpoint).</summary>
    public static readonly IReadOnlyDictionary<string, string> SatisfiedBy = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [QueueServiceUri] = StorageConnectionString,
        [BlobServiceUri] = StorageConnectionString,
        [TableServiceUri] = StorageConnectionString,
        [CosmosAccountEndpoint] = CosmosConnectionString,
    };

    /// <summary>The configuration key (<c>Section:Key</c>) of a setting named in its environment-variable form.</summary>
    public static string ConfigurationKey(string setting)
    {
        ArgumentNullException.ThrowIfNull(setting);
        return setting.Replace("__", ":", StringComparison.Ordinal);
    }
}
