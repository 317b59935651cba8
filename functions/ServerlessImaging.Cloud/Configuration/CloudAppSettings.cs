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

    /// <summary>Local development only: JWKS file of the local stack's signing key (tokens are validated against it instead of the authority's metadata).</summary>
    public const string AuthDevelopmentJwksPath = "Auth__DevelopmentJwksPath";

    /// <summary>Local development only: an Azurite or storage connection string replaces the three service URIs.</summary>
    public const string StorageConnectionString = "Storage__ConnectionString";

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
    ];

    /// <summary>Settings that are optional (SMTP credentials come from Key Vault references when the relay needs them).</summary>
    public static readonly IReadOnlyList<string> Optional = [SmtpUserName, SmtpPassword, StorageConnectionString, AuthDevelopmentJwksPath];
}
