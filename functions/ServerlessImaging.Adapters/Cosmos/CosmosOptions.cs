namespace ServerlessImaging.Adapters.Cosmos;

/// <summary>Where the Cosmos DB account is and how to reach it.</summary>
public sealed class CosmosOptions
{
    /// <summary>Account endpoint (managed identity in Azure).</summary>
    public Uri? AccountEndpoint { get; set; }

    /// <summary>Local only: a key connection string (the emulator or the stand-in); replaces managed identity.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Database name.</summary>
    public string DatabaseName { get; set; } = Contracts.ResourceNames.CosmosDatabase;

    /// <summary>Create the database and containers when missing (local stacks; Bicep creates them in Azure).</summary>
    public bool CreateIfMissing { get; set; }
}
