using System.Net.Http.Json;
using System.Text.Json;

namespace ServerlessImaging.DimseBench;

/// <summary>Removes the benchmark's studies from Orthanc afterwards (REST: /tools/lookup then DELETE /studies/{id}).</summary>
internal static class Orthanc
{
    public static async Task DeleteStudiesAsync(BenchEnvironment env, IEnumerable<string> studyUids)
    {
        using var http = new HttpClient { BaseAddress = new Uri(env.PacsHttp) };
        foreach (var uid in studyUids)
        {
            using var lookup = await http.PostAsync(new Uri("tools/lookup", UriKind.Relative), new StringContent(uid));
            if (!lookup.IsSuccessStatusCode) continue;
            var matches = await lookup.Content.ReadFromJsonAsync<JsonElement>();
            foreach (var m in matches.EnumerateArray())
                if (m.GetProperty("Type").GetString() == "Study")
                    using (await http.DeleteAsync(new Uri("studies/" + m.GetProperty("ID").GetString(), UriKind.Relative))) { }
        }
    }
}
