"""French texts of single sign-on (federation)."""

FR = {
    "A client credential is stored and can be decrypted.": "Un secret client est enregistré et peut être déchiffré.",
    "Add a connection": "Ajouter une connexion",
    "All connections of %(org)s": "Toutes les connexions de %(org)s",
    "An account with this e-mail address already exists. To link it, enter the code we sent to %(email)s.":
        "Un compte existe déjà avec cette adresse e-mail. Pour le relier, saisissez le code envoyé à %(email)s.",
    "Application (client) id": "Identifiant d'application (client)",
    "At most 50 domains per connection.": "50 domaines au plus par connexion.",
    "Back to sign-in": "Retour à la connexion",
    "Back to the connection": "Retour à la connexion SSO",
    "Certificate private key, PEM (Entra ID, instead of a secret)":
        "Clé privée du certificat, PEM (Entra ID, à la place d'un secret)",
    "Certificate thumbprint (SHA-1)": "Empreinte du certificat (SHA-1)",
    "Certificates are for Entra ID connections.": "Les certificats sont réservés aux connexions Entra ID.",
    "Choose Microsoft Entra ID or OpenID Connect.": "Choisissez Microsoft Entra ID ou OpenID Connect.",
    "Client secret": "Secret client",
    "Code from the e-mail": "Code reçu par e-mail",
    "Confirm with your organisation's directory": "Confirmer avec l'annuaire de votre organisation",
    "Confirm your e-mail address": "Confirmez votre adresse e-mail",
    "Continue with SSO": "Continuer avec le SSO",
    "Create accounts for unknown members on their first sign-in":
        "Créer le compte des membres inconnus à leur première connexion",
    "Directory": "Annuaire",
    "E-mail domains": "Domaines e-mail",
    "Enter at least one domain.": "Saisissez au moins un domaine.",
    "Enter at least one e-mail domain, e.g. example.com.": "Saisissez au moins un domaine e-mail, par exemple example.com.",
    "Enter the application (client) id given by the directory.":
        "Saisissez l'identifiant d'application (client) donné par l'annuaire.",
    "Enter the client id.": "Saisissez l'identifiant client.",
    "Enter the client secret (or, for Entra ID, a certificate).":
        "Saisissez le secret client (ou, pour Entra ID, un certificat).",
    "Enter the code.": "Saisissez le code.",
    "Everything looks right. Try signing in with SSO to finish the check.":
        "Tout semble correct. Essayez de vous connecter avec le SSO pour terminer la vérification.",
    "Give the connection a name (200 characters at most).": "Donnez un nom à la connexion (200 caractères au plus).",
    "Give the connection a name.": "Donnez un nom à la connexion.",
    "Hello,": "Bonjour,",
    "If it was not you, ignore this message: without the code, nothing is linked and nobody can sign in to your account.":
        "Si ce n'était pas vous, ignorez ce message : sans le code, rien n'est relié et personne ne peut se connecter "
        "à votre compte.",
    "If it was you, enter this code on the sign-in page (valid %(minutes)s minutes):":
        "Si c'était vous, saisissez ce code sur la page de connexion (valable %(minutes)s minutes) :",
    "Issuer URL (OpenID Connect)": "URL de l'émetteur (OpenID Connect)",
    "Leave empty to keep the stored secret.": "Laissez vide pour garder le secret enregistré.",
    "Link a directory account": "Relier un compte d'annuaire",
    "Link and sign in": "Relier et se connecter",
    "Link my %(name)s account": "Relier mon compte %(name)s",
    "Linked directory accounts": "Comptes d'annuaire reliés",
    "Members of these domains may still sign in with a password":
        "Les membres de ces domaines peuvent encore se connecter avec un mot de passe",
    "New members can be collaborators or administrators.":
        "Les nouveaux membres peuvent être collaborateurs ou administrateurs.",
    "New single sign-on connection": "Nouvelle connexion d'authentification unique",
    "No connection yet.": "Aucune connexion pour l'instant.",
    "No directory account is linked to yours.": "Aucun compte d'annuaire n'est relié au vôtre.",
    "No organisation uses single sign-on for this e-mail domain. Sign in with your password instead.":
        "Aucune organisation n'utilise l'authentification unique pour ce domaine e-mail. "
        "Connectez-vous plutôt avec votre mot de passe.",
    "None": "Aucune",
    "No usable client secret or certificate is stored: enter it again.":
        "Aucun secret client ni certificat utilisable n'est enregistré : saisissez-le à nouveau.",
    "OK": "OK",
    "One of these domains already belongs to another connection.":
        "L'un de ces domaines appartient déjà à une autre connexion.",
    "Organisations you manage": "Organisations que vous gérez",
    "Paste the certificate's private key in PEM form.": "Collez la clé privée du certificat au format PEM.",
    "Problem": "Problème",
    "Register this redirect address in the directory (Entra ID: App registrations → Authentication → Web):":
        "Enregistrez cette adresse de redirection dans l'annuaire (Entra ID : Inscriptions d'applications → "
        "Authentification → Web) :",
    "Role of accounts created on first sign-in": "Rôle des comptes créés à la première connexion",
    "SSO only": "SSO uniquement",
    "Separated by commas, e.g. example.com, example.org.": "Séparés par des virgules, par exemple example.com, example.org.",
    "Sign in with SSO": "Se connecter avec le SSO",
    "Sign in with a password instead": "Se connecter plutôt avec un mot de passe",
    "Signing you in": "Connexion en cours",
    "Single sign-on": "Authentification unique",
    "Single sign-on connection": "Connexion d'authentification unique",
    "Single sign-on did not work": "L'authentification unique n'a pas abouti",
    "Single sign-on is off for this connection.": "L'authentification unique est désactivée pour cette connexion.",
    "Single sign-on is on for this connection.": "L'authentification unique est activée pour cette connexion.",
    "Single sign-on is turned off for this e-mail domain.":
        "L'authentification unique est désactivée pour ce domaine e-mail.",
    "Single sign-on is turned off for your organisation.":
        "L'authentification unique est désactivée pour votre organisation.",
    "Single sign-on of %(org)s": "Authentification unique de %(org)s",
    "Someone signed in through the directory “%(directory)s” with your e-mail address and asked to link it to your account.":
        "Quelqu'un s'est connecté par l'annuaire « %(directory)s » avec votre adresse e-mail et a demandé à le "
        "relier à votre compte.",
    "Something is wrong: see below.": "Quelque chose ne va pas : voir ci-dessous.",
    "State": "État",
    "Tenant id (Entra ID)": "Identifiant du locataire (Entra ID)",
    "Test connection": "Tester la connexion",
    "Test of %(name)s": "Test de %(name)s",
    "The answer did not come from your organisation's directory. Nothing was signed in.":
        "La réponse ne vient pas de l'annuaire de votre organisation. Aucune connexion n'a été ouverte.",
    "The answer of the directory does not belong to this sign-in. Please start again.":
        "La réponse de l'annuaire ne correspond pas à cette connexion. Veuillez recommencer.",
    "The answer of the directory was meant for another application. Nothing was signed in.":
        "La réponse de l'annuaire était destinée à une autre application. Aucune connexion n'a été ouverte.",
    "The answer of your organisation's directory could not be verified (bad signature). Nothing was signed in.":
        "La réponse de l'annuaire de votre organisation n'a pas pu être vérifiée (signature invalide). "
        "Aucune connexion n'a été ouverte.",
    "The answer of your organisation's directory has expired. Check that your device's clock is right and start again.":
        "La réponse de l'annuaire de votre organisation a expiré. Vérifiez l'horloge de votre appareil et recommencez.",
    "The answer of your organisation's directory is dated in the future: a clock is wrong. Please try again in a few minutes.":
        "La réponse de l'annuaire de votre organisation est datée dans le futur : une horloge est fausse. "
        "Réessayez dans quelques minutes.",
    "The answer of your organisation's directory is incomplete. Nothing was signed in.":
        "La réponse de l'annuaire de votre organisation est incomplète. Aucune connexion n'a été ouverte.",
    "The client secret is too long.": "Le secret client est trop long.",
    "The code has 8 digits.": "Le code a 8 chiffres.",
    "The connection is saved. Use “Test connection” to check it.":
        "La connexion est enregistrée. Utilisez « Tester la connexion » pour la vérifier.",
    "The directory account is no longer linked.": "Le compte d'annuaire n'est plus relié.",
    "The directory account is now linked: you can sign in with it.":
        "Le compte d'annuaire est maintenant relié : vous pouvez vous connecter avec.",
    "The directory at %(url)s cannot be reached (network, TLS certificate or address).":
        "L'annuaire à l'adresse %(url)s est injoignable (réseau, certificat TLS ou adresse).",
    "The directory has no discovery document at %(url)s: check the tenant id or issuer.":
        "L'annuaire n'a pas de document de découverte à %(url)s : vérifiez l'identifiant du locataire ou l'émetteur.",
    "The directory names itself %(got)s instead of %(issuer)s.": "L'annuaire se nomme %(got)s au lieu de %(issuer)s.",
    "The directory names itself %(issuer)s, as expected.": "L'annuaire se nomme %(issuer)s, comme prévu.",
    "The directory publishes %(count)s signing key(s).": "L'annuaire publie %(count)s clé(s) de signature.",
    "The directory's signing keys cannot be read.": "Les clés de signature de l'annuaire sont illisibles.",
    "The discovery document was found.": "Le document de découverte a été trouvé.",
    "The issuer is an https:// address.": "L'émetteur est une adresse https://.",
    "The single sign-on connection of your organisation is not set up correctly. Ask your administrator.":
        "La connexion d'authentification unique de votre organisation est mal configurée. "
        "Adressez-vous à votre administrateur.",
    "The tenant id is a GUID like 72f988bf-86f1-41af-91ab-2d7cd011db47.":
        "L'identifiant du locataire est un GUID comme 72f988bf-86f1-41af-91ab-2d7cd011db47.",
    "The thumbprint is the certificate's SHA-1 fingerprint: 40 hexadecimal characters.":
        "L'empreinte est l'empreinte SHA-1 du certificat : 40 caractères hexadécimaux.",
    "The token endpoint is missing or does not use https.": "Le point de terminaison de jeton manque ou n'utilise pas https.",
    "The token endpoint uses https.": "Le point de terminaison de jeton utilise https.",
    "There is no account for you here yet, and your organisation does not create accounts on first sign-in. Ask your administrator.":
        "Vous n'avez pas encore de compte ici, et votre organisation ne crée pas les comptes à la première connexion. "
        "Adressez-vous à votre administrateur.",
    "This account cannot sign in now (it is disabled or locked).":
        "Ce compte ne peut pas se connecter pour l'instant (il est désactivé ou verrouillé).",
    "This code has expired or was tried too often. Please start again.":
        "Ce code a expiré ou a été essayé trop souvent. Veuillez recommencer.",
    "This code is not right. Check the e-mail and try again.": "Ce code n'est pas bon. Vérifiez l'e-mail et réessayez.",
    "This directory account is already linked to another account here.":
        "Ce compte d'annuaire est déjà relié à un autre compte ici.",
    "This is your only way to sign in. Set a password or link another directory first.":
        "C'est votre seul moyen de connexion. Définissez d'abord un mot de passe ou reliez un autre annuaire.",
    "This is your only way to sign in: set a password or link another directory before unlinking it.":
        "C'est votre seul moyen de connexion : définissez un mot de passe ou reliez un autre annuaire avant de le "
        "délier.",
    "This sign-in link has already been used or has expired. Please start again.":
        "Ce lien de connexion a déjà servi ou a expiré. Veuillez recommencer.",
    "Turn off": "Désactiver",
    "Turn on": "Activer",
    "Type your work e-mail address: we send you to your organisation's directory (for example Microsoft Entra ID) to sign in.":
        "Saisissez votre adresse e-mail professionnelle : nous vous envoyons vers l'annuaire de votre organisation "
        "(par exemple Microsoft Entra ID) pour vous connecter.",
    "Unlink": "Délier",
    "Work e-mail address": "Adresse e-mail professionnelle",
    "You are signed in as someone else than the person who started this. Please start again.":
        "Vous êtes connecté sous une autre identité que celle qui a commencé cette opération. Veuillez recommencer.",
    "You cancelled the sign-in at your organisation's directory.":
        "Vous avez annulé la connexion sur l'annuaire de votre organisation.",
    "You signed in with an account of another organisation's directory. Use your work account.":
        "Vous vous êtes connecté avec un compte de l'annuaire d'une autre organisation. "
        "Utilisez votre compte professionnel.",
    "Your code to link %(directory)s": "Votre code pour relier %(directory)s",
    "Your directory account will be linked to your existing account once you enter the code we e-mailed to it. This proves the mailbox is yours.":
        "Votre compte d'annuaire sera relié à votre compte existant dès que vous saisirez le code envoyé à son "
        "adresse. Cela prouve que la boîte aux lettres est la vôtre.",
    "Your directory gave an e-mail address outside your organisation's domains, so no account was created. Ask your administrator.":
        "Votre annuaire a donné une adresse e-mail hors des domaines de votre organisation : aucun compte n'a été "
        "créé. Adressez-vous à votre administrateur.",
    "Your organisation requires single sign-on for this address: use “Sign in with SSO”.":
        "Votre organisation exige l'authentification unique pour cette adresse : utilisez « Se connecter avec le SSO ».",
    "Your organisation's directory answered with an error. Please try again later or ask your administrator.":
        "L'annuaire de votre organisation a répondu par une erreur. Réessayez plus tard ou adressez-vous à votre "
        "administrateur.",
    "Your organisation's directory asked you to sign in again. Please start again.":
        "L'annuaire de votre organisation vous demande de vous reconnecter. Veuillez recommencer.",
    "Your organisation's directory cannot be reached right now. Please try again in a few minutes.":
        "L'annuaire de votre organisation est injoignable pour l'instant. Réessayez dans quelques minutes.",
    "Your organisation's directory did not give its consent to this sign-in. Ask your administrator.":
        "L'annuaire de votre organisation n'a pas donné son consentement à cette connexion. "
        "Adressez-vous à votre administrateur.",
    "Your organisation's directory refused this application (it may be disabled or not registered there). Ask your administrator.":
        "L'annuaire de votre organisation a refusé cette application (elle y est peut-être désactivée ou non "
        "inscrite). Adressez-vous à votre administrateur.",
    "“%(domain)s” is not a domain name.": "« %(domain)s » n'est pas un nom de domaine.",
    "No linked account": "Aucun compte relié",
}
