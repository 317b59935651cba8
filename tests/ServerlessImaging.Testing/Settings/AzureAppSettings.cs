namespace ServerlessImaging.Testing.Settings;

/// <summary>
/// Every setting the cloud app requires outside Development, as the Bicep function app module sets them (values made
/// up; managed identity, so no keys). Composing the app with them contacts nothing.
/// </summary>
public static class AzureAppSettings
{
    /// <summary>A fresh, complete set (configuration keys in colon form); tests change or remove entries.</summary>
    public static Dictionary<string, string?> Complete() => new()
    {
        ["Storage:QueueServiceUri"] = "https://siprod.queue.core.windows.net/",
        ["Storage:BlobServiceUri"] = "https://siprod.blob.core.windows.net/",
        ["Storage:TableServiceUri"] = "https://siprod.table.core.windows.net/",
        ["Cosmos:AccountEndpoint"] = "https://siprod.documents.azure.com:443/",
        ["Cosmos:DatabaseName"] = "serverless-imaging",
        ["DicomWeb:BaseUrl"] = "https://siprod-dicom.dicom.azurehealthcareapis.com/v2/",
        ["DicomWeb:TokenScope"] = "https://dicom.healthcareapis.azure.com/.default",
        ["Auth:Authority"] = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0",
        ["Auth:Audience"] = "api://serverless-imaging",
        ["Smtp:Host"] = "smtp.example.org",
        ["Smtp:Port"] = "587",
        ["Smtp:Security"] = "StartTls",
        ["Smtp:From"] = "3c@example.org",
        ["Viewer:StudyUrlTemplate"] = "https://viewer.example.org/study/{StudyInstanceUID}",
        ["Sites:Ids"] = "chu-nord,clinique-sud",
        ["Identity:PseudonymisationSecret"] = Convert.ToBase64String(new byte[32]),
        ["Delivery:SourceBaseUrl"] = "https://func-simg.azurewebsites.net/",
        ["Delivery:SourceTokenSecret"] = Convert.ToBase64String(new byte[32]),
    };
}
