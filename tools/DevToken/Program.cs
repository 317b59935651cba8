using System.CommandLine;
using ServerlessImaging.DevToken;

// tools/dev-token --role registrar [--role admin] [--sub NAME] [--minutes 60] [--stack PATH]
var roleOption = new Option<string[]>("--role") { Description = "App role(s): registrar, coordinator, auditor, admin.", Required = true, AllowMultipleArgumentsPerToken = true };
var subOption = new Option<string>("--sub") { Description = "Subject (user or application id).", DefaultValueFactory = _ => "dev-user" };
var minutesOption = new Option<int>("--minutes") { Description = "Lifetime in minutes.", DefaultValueFactory = _ => 60 };
var stackOption = new Option<string>("--stack") { Description = "Path of stack.json (default: .local/stack/stack.json of the repository)." };
var root = new RootCommand("Prints a JWT signed with the local stack's development key.") { roleOption, subOption, minutesOption, stackOption };
root.SetAction(parse =>
{
    var stack = parse.GetValue(stackOption) ?? Path.Combine(FindRepository(), ".local", "stack", "stack.json");
    if (!File.Exists(stack))
    {
        Console.Error.WriteLine($"dev-token: {stack} not found; run tools/stack up first.");
        return 2;
    }

    using var issuer = DevTokenIssuer.FromStackJson(stack);
    Console.WriteLine(issuer.Issue(parse.GetValue(subOption)!, parse.GetValue(roleOption)!, TimeSpan.FromMinutes(parse.GetValue(minutesOption))));
    return 0;
});
return root.Parse(args).Invoke();

static string FindRepository()
{
    for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "ServerlessImaging.sln")))
        {
            return dir.FullName;
        }
    }

    return Directory.GetCurrentDirectory();
}
