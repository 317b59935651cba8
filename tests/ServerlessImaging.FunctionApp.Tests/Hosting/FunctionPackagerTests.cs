using System.Text.Json.Nodes;
using ServerlessImaging.Contracts;
using ServerlessImaging.FunctionApp.Hosting;
using ServerlessImaging.FunctionPackager;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.FunctionApp.Tests.Hosting;

/// <summary>The generated function folders match what the custom handler serves and what host.json promises.</summary>
public sealed class FunctionPackagerTests
{
    [Fact]
    public async Task Function_folders_name_the_handler_routes_and_bind_the_relay_events_queue_the_timer_and_http()
    {
        var root = RepositoryRoot.Find();
        var output = Directory.CreateTempSubdirectory("si-package-").FullName;
        try
        {
            await Packager.WriteFunctionsAsync(root, output, CancellationToken.None);

            Assert.True(File.Exists(Path.Combine(output, "host.json")));
            var host = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, "host.json")))!;
            Assert.True(host["customHandler"]!["enableForwardingHttpRequest"]!.GetValue<bool>());
            Assert.Equal("ServerlessImaging.FunctionApp", host["customHandler"]!["description"]!["defaultExecutablePath"]!.GetValue<string>());
            Assert.Equal(string.Empty, host["extensions"]!["http"]!["routePrefix"]!.GetValue<string>());

            var queue = await BindingAsync(output, CustomHandler.RelayEventsFunction);
            Assert.Equal("queueTrigger", queue["type"]!.GetValue<string>());
            Assert.Equal(ResourceNames.RelayEventsQueue, queue["queueName"]!.GetValue<string>());
            Assert.Equal(CustomHandler.RelayEventsBinding, queue["name"]!.GetValue<string>());
            Assert.Equal("Storage", queue["connection"]!.GetValue<string>());

            var timer = await BindingAsync(output, CustomHandler.SweepFunction);
            Assert.Equal("timerTrigger", timer["type"]!.GetValue<string>());
            Assert.Equal(CustomHandler.SweepBinding, timer["name"]!.GetValue<string>());
            Assert.Equal(6, timer["schedule"]!.GetValue<string>().Split(' ').Length);

            var httpFunction = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, CustomHandler.HttpApiFunction, "function.json")))!;
            var bindings = httpFunction["bindings"]!.AsArray();
            // Forwarding is only allowed for a function with exactly one HTTP trigger and one HTTP output.
            Assert.Equal(2, bindings.Count);
            Assert.Equal("{*route}", bindings[0]!["route"]!.GetValue<string>());
            Assert.Equal("http", bindings[1]!["type"]!.GetValue<string>());

            Assert.Equal(
                new[] { CustomHandler.HttpApiFunction, CustomHandler.SweepFunction, CustomHandler.RelayEventsFunction }.Order(StringComparer.Ordinal),
                Directory.GetDirectories(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    private static async Task<JsonNode> BindingAsync(string output, string function) =>
        JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, function, "function.json")))!["bindings"]![0]!;
}
