using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using ServerlessImaging.Cloud.Api.Http;
using ServerlessImaging.Cloud.Security;
using ServerlessImaging.Orchestration.Audit;

namespace ServerlessImaging.StandaloneHost.Hosting;

/// <summary>
/// The console (<c>/console/</c>) and the viewer (<c>/viewer/</c>) as static files, and <c>/dicom-web/</c>: a read-only
/// reverse proxy to the DICOM service for signed-in users, so the viewer reads studies same-origin with the API's token
/// (the local DICOM service stand-in has no CORS and no authentication of its own). Only when <c>Web__Root</c> is set
/// (functions/ServerlessImaging.Console/wwwroot); the viewer's libraries come from <c>Web__LibRoot</c> (the npm packages
/// <c>tools/stack install</c> puts in .local/web/node_modules). In Azure the console and viewer are a static site and the
/// viewer calls the DICOM service directly (functions/ServerlessImaging.Console/README.md).
/// </summary>
internal static class WebConsole
{
    /// <summary>Who may read images: the clinicians' roles (registrar, coordinator) and admin; not auditors.</summary>
    public const string ViewerPolicy = "viewer";

    /// <summary>Static files are public (no data in them); data stays behind the API's and the proxy's authorization.</summary>
    public static void AddWebConsole(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddAuthorizationBuilder().AddPolicy(ViewerPolicy, p => p.RequireRole(ApiRoles.Registrar, ApiRoles.Coordinator, ApiRoles.Admin));
        if (configuration["DicomWeb:BaseUrl"] is { Length: > 0 } baseUrl && Uri.TryCreate(baseUrl.EndsWith('/') ? baseUrl : baseUrl + "/", UriKind.Absolute, out var dicomWeb))
        {
            services.AddHttpClient(nameof(WebConsole), c =>
            {
                c.BaseAddress = dicomWeb;
                c.Timeout = TimeSpan.FromMinutes(2);
            });
        }
    }

    /// <summary>Serves the files (before authentication: they are public) when <c>Web__Root</c> is set.</summary>
    public static void UseWebConsoleFiles(this WebApplication app)
    {
        if (app.Configuration["Web:Root"] is not { Length: > 0 } root)
        {
            return;
        }

        var types = new FileExtensionContentTypeProvider();
        types.Mappings[".mjs"] = "text/javascript";
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = new PhysicalFileProvider(Path.GetFullPath(root)) });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(Path.GetFullPath(root)), ContentTypeProvider = types });
        if (app.Configuration["Web:LibRoot"] is { Length: > 0 } libRoot && Directory.Exists(libRoot))
        {
            app.UseStaticFiles(new StaticFileOptions { RequestPath = "/viewer/lib", FileProvider = new PhysicalFileProvider(Path.GetFullPath(libRoot)), ContentTypeProvider = types });
        }
    }

    /// <summary>Maps the read-only DICOMweb proxy (QIDO-RS and WADO-RS of one study).</summary>
    public static void MapDicomWebProxy(this WebApplication app)
    {
        if (app.Configuration["Web:Root"] is not { Length: > 0 } || app.Configuration["DicomWeb:BaseUrl"] is not { Length: > 0 })
        {
            return;
        }

        // Opening a study (its series list) is recorded like any read of patient data, and fails closed; the instance
        // and metadata requests that follow are authorized but not recorded one by one (tens per series).
        app.MapGet("/dicom-web/studies/{studyUid}/series", (HttpContext context, string studyUid, IHttpClientFactory clients) =>
            {
                context.Audit().StudyInstanceUid = studyUid;
                return ForwardAsync(context, clients, $"studies/{studyUid}/series");
            })
            .RequireAuthorization(ViewerPolicy)
            .WithMetadata(new AuditedAs(AuditEventIds.DicomInstancesAccessed, AuditActionCodes.Read, "ViewerStudyOpened"))
            .ExcludeFromDescription();
        app.MapGet("/dicom-web/studies/{studyUid}/series/{seriesUid}/{**rest}", (HttpContext context, string studyUid, string seriesUid, string? rest, IHttpClientFactory clients) =>
                ForwardAsync(context, clients, $"studies/{studyUid}/series/{seriesUid}/{rest}"))
            .RequireAuthorization(ViewerPolicy)
            .ExcludeFromDescription();
    }

    private static async Task ForwardAsync(HttpContext context, IHttpClientFactory clients, string path)
    {
        // UIDs are digits and dots; anything else (../, %2F…) never reaches the DICOM service.
        if (path.Split('/', StringSplitOptions.RemoveEmptyEntries).Any(s => s is not ("studies" or "series" or "instances" or "metadata" or "frames" or "rendered") && !s.All(c => char.IsAsciiDigit(c) || c is '.' or ',')))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, path + context.Request.QueryString.Value);
        foreach (var accept in context.Request.Headers.Accept)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        using var response = await clients.CreateClient(nameof(WebConsole)).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        if (response.Content.Headers.ContentType is { } type)
        {
            context.Response.ContentType = type.ToString();
        }

        context.Response.Headers.CacheControl = "no-store";
        await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
        await body.CopyToAsync(context.Response.Body, context.RequestAborted);
    }
}
